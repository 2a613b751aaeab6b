use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn agent_crud_with_defaults_from_the_workspace() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "  Reception  "})).await;
        let id = agent["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("agt_"));
        assert_eq!(agent["name"], "Reception", "names are trimmed");
        assert_eq!(agent["status"], "draft");
        assert_eq!(agent["language"], "de");
        assert_eq!(agent["timezone"], "Europe/Berlin", "defaults to the workspace's zone");

        let got = expect(app.get(&format!("/v1/agents/{id}"), &ws.owner).await, 200).await;
        assert_eq!(got, agent);

        let changed = expect(
            app.patch(
                &format!("/v1/agents/{id}"),
                &ws.owner,
                json!({"status": "live", "language": "en", "timezone": "America/New_York"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(changed["status"], "live");
        assert_eq!(changed["language"], "en");
        assert_eq!(changed["timezone"], "America/New_York");
        assert_eq!(changed["name"], "Reception", "fields not sent stay");
        let reread = expect(app.get(&format!("/v1/agents/{id}"), &ws.owner).await, 200).await;
        assert_eq!(reread, changed, "the change was stored");

        expect(app.delete(&format!("/v1/agents/{id}"), &ws.owner).await, 204).await;
        expect_problem(app.get(&format!("/v1/agents/{id}"), &ws.owner).await, 404, "not_found").await;
        expect_problem(app.delete(&format!("/v1/agents/{id}"), &ws.owner).await, 404, "not_found").await;
    })
    .await;
}

#[tokio::test]
async fn agents_are_listed_in_pages_and_filtered_by_status() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let mut made = Vec::new();
        for i in 0..5 {
            let status = if i % 2 == 0 { "live" } else { "paused" };
            made.push(
                app.create_agent(
                    &ws.owner,
                    json!({"name": format!("Agent {i}"), "status": status}),
                )
                .await["id"]
                    .clone(),
            );
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/agents?limit=2&cursor={c}"),
                None => "/v1/agents?limit=2".to_owned(),
            };
            let page = expect(app.get(&path, &ws.owner).await, 200).await;
            pages += 1;
            seen.extend(page["data"].as_array().unwrap().iter().map(|a| a["id"].clone()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, made, "every agent once, oldest first");

        let live = expect(app.get("/v1/agents?status=live", &ws.owner).await, 200).await;
        assert_eq!(live["data"].as_array().unwrap().len(), 3);
        assert!(live["data"].as_array().unwrap().iter().all(|a| a["status"] == "live"));
        assert!(live["next_cursor"].is_null());
    })
    .await;
}
