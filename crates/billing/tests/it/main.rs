//! The ledger on every engine: idempotent, immutable, transactional; the wallet derived from it.

#![allow(clippy::unwrap_used)]

mod usage;

use std::sync::Arc;

use sea_orm::TransactionTrait;
use switchboard_billing::{BillingService, EntryKind, NewCredit, NewEntry, PriceList, ledger};
use switchboard_core::{Amount, Ctx, Currency, Error, PageRequest, Permission, Role, WorkspaceId};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

async fn workspace(db: &TestDb) -> WorkspaceId {
    let tenancy = TenancyService::new(db.conn.clone());
    tenancy.create_workspace(NewWorkspace { name: "Acme".into(), timezone: None }).await.unwrap().0.id
}

fn service(db: &TestDb) -> BillingService {
    BillingService::new(db.conn.clone(), Arc::new(PriceList::embedded().unwrap()), Currency::EUR)
}

fn charge(ws: &WorkspaceId, key: &str, cents: i64) -> NewEntry {
    NewEntry {
        workspace_id: ws.clone(),
        kind: EntryKind::Rental,
        number_id: None,
        quantity: 1,
        amount: Amount::from_cents(-cents),
        period: Some("2026-11".parse().unwrap()),
        idempotency_key: key.into(),
        description: "test".into(),
    }
}

#[tokio::test]
async fn recording_the_same_key_twice_records_once() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let first =
            ledger::record(&db.conn, Currency::EUR, charge(&ws, "rental:n1:2026-11", 150)).await.unwrap();
        let again =
            ledger::record(&db.conn, Currency::EUR, charge(&ws, "rental:n1:2026-11", 150)).await.unwrap();
        assert!(first.is_new() && !again.is_new());
        assert_eq!(first.entry(), again.entry());
        assert_eq!(ledger::balance(&db.conn, &ws).await.unwrap().to_string(), "-1.50");
    })
    .await;
}

#[tokio::test]
async fn concurrent_records_of_one_key_write_exactly_one_entry() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (conn, ws) = (db.conn.clone(), ws.clone());
                tokio::spawn(async move {
                    ledger::record(&conn, Currency::EUR, charge(&ws, "rental:n1:2026-12", 150)).await
                })
            })
            .collect();
        let mut new = 0;
        for t in tasks {
            new += usize::from(t.await.unwrap().unwrap().is_new());
        }
        assert_eq!(new, 1);
        assert_eq!(ledger::balance(&db.conn, &ws).await.unwrap().to_string(), "-1.50");
    })
    .await;
}

#[tokio::test]
async fn a_repeat_inside_a_transaction_does_not_abort_it_and_a_rollback_records_nothing() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        ledger::record(&db.conn, Currency::EUR, charge(&ws, "k1", 100)).await.unwrap();
        let txn = db.conn.begin().await.unwrap();
        assert!(!ledger::record(&txn, Currency::EUR, charge(&ws, "k1", 100)).await.unwrap().is_new());
        // The transaction is still usable after the repeat (PostgreSQL would abort it on a caught
        // unique violation).
        assert!(ledger::record(&txn, Currency::EUR, charge(&ws, "k2", 200)).await.unwrap().is_new());
        txn.rollback().await.unwrap();
        assert_eq!(
            ledger::balance(&db.conn, &ws).await.unwrap().to_string(),
            "-1.00",
            "the rolled back k2 counted"
        );
    })
    .await;
}

#[tokio::test]
async fn credits_are_idempotent_by_reference() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let billing = service(&db);
        let credit = |amount: &str, reference: &str| NewCredit {
            amount: amount.parse().unwrap(),
            reference: reference.into(),
        };
        assert!(billing.credit(&ws, credit("100.00", "invoice-42")).await.unwrap().is_new());
        let repeat = billing.credit(&ws, credit("100.00", "invoice-42")).await.unwrap();
        assert!(!repeat.is_new());
        assert_eq!(repeat.entry().kind, EntryKind::Credit);
        let err = billing.credit(&ws, credit("50.00", "invoice-42")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "reference_reused", .. }), "{err:?}");
        for (amount, reference, field) in
            [("0", "r", "amount"), ("-5", "r", "amount"), ("5", " ", "reference")]
        {
            let err = billing.credit(&ws, credit(amount, reference)).await.unwrap_err();
            assert!(
                matches!(err, Error::Invalid(ref f) if f[0].field == field),
                "{amount} {reference:?}: {err:?}"
            );
        }
        let err = billing.credit(&WorkspaceId::new(), credit("5", "x")).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

        let ctx = Ctx::system(ws.clone());
        assert_eq!(billing.wallet(&ctx).await.unwrap().balance.amount.to_string(), "100.00");
        let entries = billing.ledger(&ctx, &PageRequest::default()).await.unwrap();
        assert_eq!(entries.data.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn the_wallet_can_go_negative_and_needs_billing_read() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let billing = service(&db);
        billing
            .credit(&ws, NewCredit { amount: "1.00".parse().unwrap(), reference: "r".into() })
            .await
            .unwrap();
        ledger::record(&db.conn, Currency::EUR, charge(&ws, "rental:x", 150)).await.unwrap();
        let owner = Ctx::system(ws.clone());
        assert_eq!(billing.wallet(&owner).await.unwrap().balance.amount.to_string(), "-0.50");

        let tenancy = TenancyService::new(db.conn.clone());
        let key = tenancy
            .create_api_key(&owner, NewApiKey { name: "bot".into(), role: Role::Agent })
            .await
            .unwrap();
        let agent = tenancy.authenticate(&key.key).await.unwrap().unwrap();
        assert!(matches!(billing.wallet(&agent).await, Err(Error::Forbidden(Permission::BillingRead))));
        assert!(matches!(billing.ledger(&agent, &PageRequest::default()).await, Err(Error::Forbidden(_))));
        // Another workspace sees none of it.
        let other = workspace(&db).await;
        assert_eq!(billing.wallet(&Ctx::system(other)).await.unwrap().balance.amount.to_string(), "0.00");
    })
    .await;
}

/// Regression: SQLite connections that lived through a migration could prepare statements against
/// the old schema ("ON CONFLICT clause does not match any … UNIQUE constraint"), about once in a
/// hundred fresh databases. Databases are now migrated over a connection of their own.
#[tokio::test]
async fn records_right_after_migration_see_the_final_schema() {
    for i in 0..150 {
        let db = switchboard_testkit::fresh(switchboard_core::db::Engine::Sqlite).await;
        let ws = workspace(&db).await;
        let tasks: Vec<_> = (0..4)
            .map(|k| {
                let (conn, ws) = (db.conn.clone(), ws.clone());
                tokio::spawn(async move {
                    ledger::record(&conn, Currency::EUR, charge(&ws, &format!("k{k}"), 1)).await
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await.unwrap() {
                panic!("fresh database {i}: {e}");
            }
        }
    }
}
