//! Forwarding targets over HTTP: the wire shapes of SPEC §13.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn forwarding_targets_over_http() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "timezone": "Europe/Berlin"})).await;
        let base = format!("/v1/agents/{}/forwarding-targets", agent["id"].as_str().unwrap());

        let office = expect(
            app.post(&base, &ws.owner, json!({
                "name": "Manfred Müller", "phone_number": "+49 30 1234567", "aliases": ["Manni"],
                "opening_hours": {"days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]},
                                  "exceptions": [{"date": "2026-12-24", "intervals": []}]},
                "fallback_message": "Manfred is not available right now."
            })).await,
            201,
        )
        .await;
        assert_eq!(office["phone_number"], "+49301234567");
        assert_eq!(office["opening_hours"]["days"]["mon"][1], json!({"start": "13:00", "end": "17:00"}));
        assert_eq!(office["mode"], "warm");
        assert_eq!(office["ring_timeout_seconds"], 30);

        // Monday 2026-11-30 10:00 Berlin: open until 12:00; at 12:30 closed until 13:00.
        let open = expect(app.get(&format!("{base}/available?at=2026-11-30T09:00:00Z"), &ws.owner).await, 200).await;
        assert_eq!(open["data"][0]["id"], office["id"]);
        assert_eq!(open["data"][0]["open_until"], "2026-11-30T11:00:00Z");
        let lunch = expect(app.get(&format!("{base}/available?at=2026-11-30T11:30:00Z"), &ws.owner).await, 200).await;
        assert!(lunch["data"].as_array().unwrap().is_empty());

        let resolved = expect(app.post(&format!("{base}/resolve"), &ws.owner, json!({"query": "Herr Mueller", "at": "2026-11-30T11:30:00Z"})).await, 200).await;
        let hit = &resolved["data"][0];
        assert_eq!(hit["id"], office["id"]);
        assert_eq!(hit["open"], false);
        assert_eq!(hit["next_open_at"], "2026-11-30T12:00:00Z");
        assert_eq!(hit["fallback_message"], "Manfred is not available right now.");

        let p = expect_problem(app.get(&format!("{base}/available?at=tomorrow"), &ws.owner).await, 422, "validation_failed").await;
        assert_eq!(fields(&p), ["at"]);
        let p = expect_problem(app.post(&base, &ws.owner, json!({"name": "X", "phone_number": "+49301234568", "opening_hours": {"days": {"monday": []}}})).await, 422, "validation_failed").await;
        assert!(fields(&p)[0].contains("monday") || fields(&p)[0].starts_with("opening_hours"), "{p}");
        let p = expect_problem(app.post(&base, &ws.owner, json!({"name": "X", "phone_number": "+49301234568", "mode": "loud"})).await, 422, "validation_failed").await;
        assert_eq!(fields(&p), ["mode"]);

        let agent_key = app.key(&ws, "agent").await;
        let office_path = format!("{base}/{}", office["id"].as_str().unwrap());
        let p = expect_problem(app.patch(&office_path, &agent_key, json!({"active": false})).await, 403, "forbidden").await;
        assert!(p["detail"].as_str().unwrap().contains("targets_write"));
        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&office_path, &other.owner).await, 404, "not_found").await;
        expect_problem(app.get(&format!("{base}/available"), &other.owner).await, 404, "not_found").await;
        let changed = expect(app.patch(&office_path, &ws.owner, json!({"opening_hours": null})).await, 200).await;
        assert!(changed["opening_hours"].is_null());
        expect(app.delete(&office_path, &ws.owner).await, 204).await;
    })
    .await;
}
