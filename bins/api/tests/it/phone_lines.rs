//! Phone lines over HTTP.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn phone_lines_over_http_normalise_validate_and_stay_in_their_workspace() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Hotline"})).await;
        let base = format!("/v1/agents/{}/phone-lines", agent["id"].as_str().unwrap());

        let line = expect(
            app.post(&base, &ws.owner, json!({"vapi_phone_number_id": "vapi_phone_de_01", "phone_number": "+49 30 1234567", "label": "Germany"})).await,
            201,
        )
        .await;
        assert_eq!(line["phone_number"], "+49301234567");
        assert_eq!(line["language"], "de");
        assert_eq!(line["active"], true);
        let path = format!("{base}/{}", line["id"].as_str().unwrap());

        for (body, field) in [
            (json!({"vapi_phone_number_id": "short", "phone_number": "+49301234567"}), "vapi_phone_number_id"),
            (json!({"vapi_phone_number_id": "vapi_phone_de_02", "phone_number": "030 1234567"}), "phone_number"),
            (json!({"vapi_phone_number_id": "vapi_phone_de_02", "phone_number": "+49301234567", "language": "xx"}), "language"),
            (json!({"vapi_phone_number_id": "vapi_phone_de_02", "phone_number": "+49301234567", "label": "x".repeat(81)}), "label"),
        ] {
            let p = expect_problem(app.post(&base, &ws.owner, body).await, 422, "validation_failed").await;
            assert_eq!(fields(&p), [field]);
        }
        expect_problem(
            app.post(&base, &ws.owner, json!({"vapi_phone_number_id": "vapi_phone_de_01", "phone_number": "+49301234567"})).await,
            409,
            "vapi_id_taken",
        )
        .await;

        let changed = expect(app.patch(&path, &ws.owner, json!({"language": "en", "label": null, "active": false})).await, 200).await;
        assert_eq!((changed["language"].as_str(), changed["active"].as_bool()), (Some("en"), Some(false)));
        assert!(changed["label"].is_null());
        assert_eq!(expect(app.get(&base, &ws.owner).await, 200).await["data"].as_array().unwrap().len(), 1);

        let agent_key = app.key(&ws, "agent").await;
        let p = expect_problem(app.patch(&path, &agent_key, json!({"active": true})).await, 403, "forbidden").await;
        assert!(p["detail"].as_str().unwrap().contains("lines_write"));
        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&path, &other.owner).await, 404, "not_found").await;
        expect_problem(app.get(&base, &other.owner).await, 404, "not_found").await;
        expect_problem(app.delete(&path, &other.owner).await, 404, "not_found").await;

        expect(app.delete(&path, &ws.owner).await, 204).await;
        expect_problem(app.get(&path, &ws.owner).await, 404, "not_found").await;
    })
    .await;
}
