//! The tenancy service as a library caller uses it, on every engine.

#![allow(clippy::unwrap_used)]

use switchboard_core::{Ctx, Error, PageRequest, Permission, Role};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::each_engine;

fn new_ws(name: &str) -> NewWorkspace {
    NewWorkspace { name: name.into(), timezone: None }
}

#[tokio::test]
async fn an_issued_key_authenticates_into_its_workspace_and_role() {
    each_engine(|db| async move {
        let svc = TenancyService::new(db.conn.clone());
        let (ws, owner) = svc.create_workspace(new_ws("Acme")).await.unwrap();
        assert_eq!(ws.timezone.name(), "UTC", "workspaces default to UTC");
        let ctx = svc.authenticate(&owner.key).await.unwrap().unwrap();
        assert_eq!(ctx.workspace_id(), &ws.id);
        assert_eq!(ctx.role(), Role::Owner);

        let agent =
            svc.create_api_key(&ctx, NewApiKey { name: "bot".into(), role: Role::Agent }).await.unwrap();
        let agent_ctx = svc.authenticate(&agent.key).await.unwrap().unwrap();
        assert_eq!(agent_ctx.role(), Role::Agent);

        for bad in ["", "sk_", "sk_short", &format!("{}x", owner.key), &owner.key.to_uppercase(), "Bearer x"]
        {
            assert!(svc.authenticate(bad).await.unwrap().is_none(), "{bad:?} authenticated");
        }
        svc.revoke_api_key(&ctx, &agent.id).await.unwrap();
        assert!(svc.authenticate(&agent.key).await.unwrap().is_none(), "a revoked key authenticated");
    })
    .await;
}

#[tokio::test]
async fn key_management_is_for_owners_and_scoped_to_the_workspace() {
    each_engine(|db| async move {
        let svc = TenancyService::new(db.conn.clone());
        let (_, a_owner) = svc.create_workspace(new_ws("A")).await.unwrap();
        let (_, b_owner) = svc.create_workspace(new_ws("B")).await.unwrap();
        let a = svc.authenticate(&a_owner.key).await.unwrap().unwrap();
        let b = svc.authenticate(&b_owner.key).await.unwrap().unwrap();

        let admin_key =
            svc.create_api_key(&a, NewApiKey { name: "ops".into(), role: Role::Admin }).await.unwrap();
        let admin = svc.authenticate(&admin_key.key).await.unwrap().unwrap();
        let refused = svc.create_api_key(&admin, NewApiKey { name: "x".into(), role: Role::Owner }).await;
        assert!(matches!(refused, Err(Error::Forbidden(Permission::ApiKeysManage))), "{refused:?}");

        assert!(matches!(svc.get_api_key(&b, &admin_key.id).await, Err(Error::NotFound { .. })));
        assert!(matches!(svc.revoke_api_key(&b, &admin_key.id).await, Err(Error::NotFound { .. })));
        let listed = svc.list_api_keys(&a, &PageRequest::default()).await.unwrap();
        assert_eq!(listed.data.len(), 2);
        let listed_b = svc.list_api_keys(&b, &PageRequest::default()).await.unwrap();
        assert_eq!(listed_b.data.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn names_are_validated_with_the_field_at_fault() {
    each_engine(|db| async move {
        let svc = TenancyService::new(db.conn.clone());
        let err = svc.create_workspace(new_ws(" ")).await.unwrap_err();
        let Error::Invalid(fields) = err else { panic!("expected invalid input") };
        assert_eq!(fields[0].field, "name");
        let (ws, _) = svc.create_workspace(new_ws("A")).await.unwrap();
        let ctx = Ctx::system(ws.id);
        let err = svc
            .create_api_key(&ctx, NewApiKey { name: "k".repeat(121), role: Role::Agent })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(ref f) if f[0].field == "name"), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_system_flag_is_claimed_exactly_once_under_concurrency() {
    each_engine(|db| async move {
        let svc = TenancyService::new(db.conn.clone());
        let claims: Vec<_> = (0..8)
            .map(|_| {
                let svc = svc.clone();
                tokio::spawn(async move { svc.claim_flag("once", "x").await.unwrap() })
            })
            .collect();
        let mut won = 0;
        for c in claims {
            won += usize::from(c.await.unwrap());
        }
        assert_eq!(won, 1);
    })
    .await;
}
