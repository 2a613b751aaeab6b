//! API keys: the secret is shown once and stored only as a hash; revoked keys stop working.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use sha2::{Digest, Sha256};
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn a_key_is_shown_once_and_only_its_hash_is_stored() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let issued =
            expect(app.post("/v1/api-keys", &ws.owner, json!({"name": "CRM", "role": "admin"})).await, 201)
                .await;
        let secret = issued["key"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("sk_") && secret.len() == 43, "{secret}");
        assert_eq!(issued["role"], "admin");
        let id = issued["id"].as_str().unwrap();

        // Never again in a response.
        let listed = app.get("/v1/api-keys", &ws.owner).await.text().await.unwrap();
        let one = app.get(&format!("/v1/api-keys/{id}"), &ws.owner).await.text().await.unwrap();
        for body in [&listed, &one] {
            assert!(!body.contains(&secret), "the secret was shown again: {body}");
            assert!(!body.contains("\"key\""), "a key field is listed: {body}");
        }
        let one: serde_json::Value = serde_json::from_str(&one).unwrap();
        assert_eq!(one["prefix"], format!("{}…", &secret[..11]));

        // The database holds the SHA-256 and no copy of the secret anywhere in the row.
        let backend = app.db.conn.get_database_backend();
        let row = app
            .db
            .conn
            .query_one(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        "SELECT id, name, role, key_hash, key_prefix FROM api_keys WHERE id = $1"
                    }
                    _ => "SELECT id, name, role, key_hash, key_prefix FROM api_keys WHERE id = ?",
                },
                [id.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let hash: String = row.try_get("", "key_hash").unwrap();
        let expected: String = Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash, expected);
        for col in ["id", "name", "role", "key_hash", "key_prefix"] {
            let value: String = row.try_get("", col).unwrap();
            assert!(!value.contains(&secret[3..]), "column {col} holds the secret");
        }

        // And the shown secret works.
        expect(app.get("/v1/agents", &secret).await, 200).await;
    })
    .await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let issued =
            expect(app.post("/v1/api-keys", &ws.owner, json!({"name": "temp", "role": "agent"})).await, 201)
                .await;
        let secret = issued["key"].as_str().unwrap();
        expect(app.get("/v1/agents", secret).await, 200).await;

        let revoked = expect(
            app.delete(&format!("/v1/api-keys/{}", issued["id"].as_str().unwrap()), &ws.owner).await,
            200,
        )
        .await;
        assert!(revoked["revoked_at"].is_string());
        expect_problem(app.get("/v1/agents", secret).await, 401, "invalid_api_key").await;
        // Revoking again changes nothing.
        let again = expect(
            app.delete(&format!("/v1/api-keys/{}", issued["id"].as_str().unwrap()), &ws.owner).await,
            200,
        )
        .await;
        assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    })
    .await;
}

#[tokio::test]
async fn the_last_owner_key_cannot_be_revoked() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let keys = expect(app.get("/v1/api-keys", &ws.owner).await, 200).await;
        let owner_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
        expect_problem(
            app.delete(&format!("/v1/api-keys/{owner_id}"), &ws.owner).await,
            409,
            "last_owner_key",
        )
        .await;

        // With a second owner key the first can go, and then the second is the last.
        let second = expect(
            app.post("/v1/api-keys", &ws.owner, json!({"name": "backup", "role": "owner"})).await,
            201,
        )
        .await;
        let second_key = second["key"].as_str().unwrap();
        expect(app.delete(&format!("/v1/api-keys/{owner_id}"), second_key).await, 200).await;
        expect_problem(app.get("/v1/agents", &ws.owner).await, 401, "invalid_api_key").await;
        expect_problem(
            app.delete(&format!("/v1/api-keys/{}", second["id"].as_str().unwrap()), second_key).await,
            409,
            "last_owner_key",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn two_owners_revoking_each_other_at_once_leave_one_owner() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let second = expect(
            app.post("/v1/api-keys", &ws.owner, json!({"name": "backup", "role": "owner"})).await,
            201,
        )
        .await;
        let keys = expect(app.get("/v1/api-keys", &ws.owner).await, 200).await;
        let first_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
        let second_id = second["id"].as_str().unwrap().to_owned();
        let second_key = second["key"].as_str().unwrap().to_owned();
        let (path_second, path_first) =
            (format!("/v1/api-keys/{second_id}"), format!("/v1/api-keys/{first_id}"));
        let (a, b) = tokio::join!(app.delete(&path_second, &ws.owner), app.delete(&path_first, &second_key));
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        // Exactly one revocation wins; the other is refused as the last owner key, or finds its
        // own key revoked (401). Never both succeed.
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| [200, 401, 409].contains(s)), "{statuses:?}");
    })
    .await;
}
