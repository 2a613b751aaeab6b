//! Email over HTTP against the sandbox SES: aliases in the channels card, verification, can_send.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn an_alias_is_set_in_the_channels_card_and_its_sender_verified_through_the_sandbox() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Support"})).await;
        let id = agent["id"].as_str().unwrap();
        let channels = format!("/v1/agents/{id}/channels");
        let email = format!("/v1/agents/{id}/email");

        let before = expect(app.get(&email, &ws.owner).await, 200).await;
        assert_eq!(before["can_send"], false);
        assert!(before["reason"].as_str().unwrap().contains("alias"));
        expect_problem(
            app.post(&format!("{email}/verify"), &ws.owner, json!({"scope": "address"})).await,
            409,
            "no_sender",
        )
        .await;

        let card = expect(
            app.patch(
                &channels,
                &ws.owner,
                json!({"email_alias": " Help.Desk ", "reply_display_name": "Acme Help"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(card["email_alias"], "help.desk");
        assert_eq!(card["inbound_address"], "help.desk@support.switchboard.test");

        let pending =
            expect(app.post(&format!("{email}/verify"), &ws.owner, json!({"scope": "address"})).await, 200)
                .await;
        assert_eq!(pending["effective_sender"], "help.desk@support.switchboard.test");
        assert_eq!(pending["identity"]["status"], "pending");
        assert_eq!(pending["can_send"], false);
        // Re-verify: the sandbox verifies an address on its first re-check.
        let verified =
            expect(app.post(&format!("{email}/verify"), &ws.owner, json!({"scope": "address"})).await, 200)
                .await;
        assert_eq!(verified["identity"]["status"], "verified");
        assert_eq!(verified["can_send"], true);
        assert!(verified["reason"].is_null());

        // A reply-from on another domain needs its own verification; the domain gives DKIM records.
        let other =
            expect(app.patch(&channels, &ws.owner, json!({"reply_from": "hello@acme.example"})).await, 200)
                .await;
        assert_eq!(other["reply_from"], "hello@acme.example");
        let domain =
            expect(app.post(&format!("{email}/verify"), &ws.owner, json!({"scope": "domain"})).await, 200)
                .await;
        assert_eq!(domain["effective_sender"], "hello@acme.example");
        assert_eq!(domain["can_send"], false);
        let records = domain["dns_records"].as_array().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0]["type"], "CNAME");
        assert!(records[0]["name"].as_str().unwrap().ends_with("._domainkey.acme.example"));
        assert!(records[0]["value"].as_str().unwrap().ends_with(".dkim.amazonses.com"));
    })
    .await;
}

#[tokio::test]
async fn email_rules_over_http_name_their_fields_and_aliases_are_unique_across_workspaces() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let a = app.create_workspace("A").await;
        let b = app.create_workspace("B").await;
        let agent_a = app.create_agent(&a.owner, json!({"name": "Support"})).await;
        let agent_b = app.create_agent(&b.owner, json!({"name": "Support"})).await;
        let path_a = format!("/v1/agents/{}/channels", agent_a["id"].as_str().unwrap());
        let path_b = format!("/v1/agents/{}/channels", agent_b["id"].as_str().unwrap());
        expect(app.patch(&path_a, &a.owner, json!({"email_alias": "sales"})).await, 200).await;
        expect_problem(
            app.patch(&path_b, &b.owner, json!({"email_alias": "SALES"})).await,
            409,
            "alias_taken",
        )
        .await;
        for (field, value) in [
            ("email_alias", json!("..sales")),
            ("reply_from", json!("not-an-address")),
            ("reply_display_name", json!("Acme\nBcc: victim@example.com")),
        ] {
            let p = expect_problem(
                app.patch(&path_b, &b.owner, json!({field: value})).await,
                422,
                "validation_failed",
            )
            .await;
            assert_eq!(fields(&p), [field]);
        }
        let verify_b = format!("/v1/agents/{}/email/verify", agent_b["id"].as_str().unwrap());
        let p = expect_problem(
            app.post(&verify_b, &b.owner, json!({"scope": "everything"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["scope"]);
        let agent_key = app.key(&a, "agent").await;
        let p = expect_problem(
            app.patch(&path_a, &agent_key, json!({"email_alias": "x"})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("channels_write"));
        expect_problem(
            app.get(&format!("/v1/agents/{}/email", agent_a["id"].as_str().unwrap()), &b.owner).await,
            404,
            "not_found",
        )
        .await;
    })
    .await;
}
