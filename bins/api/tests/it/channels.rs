//! Channel settings over HTTP: every rule with the field named, the SSRF table refused at the
//! door, and the WhatsApp number provisioning filled in.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn channel_settings_start_empty_and_change_field_by_field() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
        let path = format!("/v1/agents/{}/channels", agent["id"].as_str().unwrap());

        let empty = expect(app.get(&path, &ws.owner).await, 200).await;
        assert_eq!(empty["whatsapp_enabled"], false);
        assert!(empty["whatsapp_number"].is_null() && empty["tool_webhook_url"].is_null());

        expect_problem(
            app.patch(&path, &ws.owner, json!({"whatsapp_enabled": true})).await,
            409,
            "whatsapp_number_required",
        )
        .await;
        let set = expect(
            app.patch(
                &path,
                &ws.owner,
                json!({
                    "whatsapp_number": "+49 151 2345 6780", "whatsapp_enabled": true,
                    "vapi_assistant_id": "550E8400-E29B-41D4-A716-446655440000",
                    "tool_webhook_url": "https://tools.example.com/switchboard",
                    "notification_webhook_url": "https://hooks.example.com/n?x=1",
                    "notification_email": "Owner@Example.com"
                }),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(set["whatsapp_number"], "+4915123456780");
        assert_eq!(set["vapi_assistant_id"], "550e8400-e29b-41d4-a716-446655440000");
        assert_eq!(set["notification_email"], "Owner@example.com");
        assert_eq!(set["tool_webhook_url"], "https://tools.example.com/switchboard");
        assert_eq!(expect(app.get(&path, &ws.owner).await, 200).await, set, "stored as answered");
        assert_eq!(
            expect(app.get(&format!("/v1/agents/{}", agent["id"].as_str().unwrap()), &ws.owner).await, 200)
                .await["whatsapp_number"],
            "+4915123456780"
        );

        let cleared = expect(
            app.patch(&path, &ws.owner, json!({"tool_webhook_url": null, "whatsapp_enabled": false})).await,
            200,
        )
        .await;
        assert!(cleared["tool_webhook_url"].is_null());
        assert_eq!(
            cleared["notification_webhook_url"], "https://hooks.example.com/n?x=1",
            "fields not sent stay"
        );
    })
    .await;
}

#[tokio::test]
async fn webhook_addresses_must_be_public_https_and_every_rule_names_its_field() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
        let path = format!("/v1/agents/{}/channels", agent["id"].as_str().unwrap());
        for url in [
            "http://hooks.example.com/x",
            "https://user:secret@hooks.example.com/x",
            "https://localhost/x",
            "https://printer.local/x",
            "https://127.0.0.1/x",
            "https://10.0.0.1/x",
            "https://172.16.0.1/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://2130706433/x",
            "https://0177.0.0.1/x",
            "not a url",
        ] {
            for field in ["tool_webhook_url", "notification_webhook_url"] {
                let p = expect_problem(
                    app.patch(&path, &ws.owner, json!({field: url})).await,
                    422,
                    "validation_failed",
                )
                .await;
                assert_eq!(fields(&p), [field], "{url}");
            }
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
        expect_problem(
            app.patch(&path, &ws.owner, json!({"tool_webhook_url": long})).await,
            422,
            "validation_failed",
        )
        .await;
        for (field, value) in [
            ("vapi_assistant_id", json!("not-a-uuid")),
            ("notification_email", json!("owner@")),
            ("notification_email", json!("a@b.com\r\nBcc: x@y.z")),
            ("whatsapp_number", json!("0151 234")),
            ("whatsapp_enabled", json!("yes")),
        ] {
            let p = expect_problem(
                app.patch(&path, &ws.owner, json!({field: value})).await,
                422,
                "validation_failed",
            )
            .await;
            assert_eq!(fields(&p), [field], "{field} = {value}");
        }
        let unchanged = expect(app.get(&path, &ws.owner).await, 200).await;
        assert!(unchanged["tool_webhook_url"].is_null(), "nothing refused was stored");
    })
    .await;
}

#[tokio::test]
async fn channel_settings_are_the_owners_and_admins_to_change_and_stay_in_the_workspace() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
        let path = format!("/v1/agents/{}/channels", agent["id"].as_str().unwrap());
        let agent_key = app.key(&ws, "agent").await;
        expect(app.get(&path, &agent_key).await, 200).await;
        let p = expect_problem(
            app.patch(&path, &agent_key, json!({"notification_email": "a@example.com"})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("channels_write"));
        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&path, &other.owner).await, 404, "not_found").await;
        expect_problem(
            app.patch(&path, &other.owner, json!({"notification_email": "a@example.com"})).await,
            404,
            "not_found",
        )
        .await;
        // Deleting the agent takes its settings along.
        expect(app.patch(&path, &ws.owner, json!({"notification_email": "a@example.com"})).await, 200).await;
        expect(app.delete(&format!("/v1/agents/{}", agent["id"].as_str().unwrap()), &ws.owner).await, 204)
            .await;
    })
    .await;
}
