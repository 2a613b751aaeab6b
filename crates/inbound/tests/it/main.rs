//! Storage and processing of inbound events on every engine: one row per provider id however
//! many deliveries race, and effects once however many processors race.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, Statement};
use switchboard_core::WorkspaceId;
use switchboard_inbound::{
    EventKind, EventState, InboundService, NewEvent, Outcome, Persisted, Persister, Provider, TwilioParams,
    Wiring, WriteGate, store,
};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_testkit::{TestDb, each_engine};
use switchboard_webhook_auth::CertificateError;
use switchboard_webhook_auth::sns::SubscriptionConfirmer;

struct NoConfirmations;

#[async_trait::async_trait]
impl SubscriptionConfirmer for NoConfirmations {
    async fn confirm(&self, _: &str) -> Result<(), CertificateError> {
        Err(CertificateError::new("not in these tests"))
    }
}

fn service(db: &TestDb, free_sms: i64) -> InboundService {
    InboundService::wire(Wiring {
        db: db.conn.clone(),
        prices: Arc::new(switchboard_billing::PriceList::embedded().unwrap()),
        currency: switchboard_core::Currency::EUR,
        usage: switchboard_billing::UsageSettings { free_sms, ..Default::default() },
        numbers: switchboard_providers::sandbox(switchboard_providers::Sandbox::embedded().unwrap()),
        public_base_url: "https://hooks.example.com".into(),
        confirmer: Arc::new(NoConfirmations),
    })
}

async fn workspace_with_number(db: &TestDb, phone: &str) -> WorkspaceId {
    let ws = TenancyService::new(db.conn.clone())
        .create_workspace(NewWorkspace { name: "Acme".into(), timezone: None })
        .await
        .unwrap()
        .0
        .id;
    insert_numbers(&db.conn, &[NumberRow::new(&ws, phone)]).await.unwrap();
    ws
}

fn sms_event(sid: &str, to: &str) -> NewEvent {
    let pairs: Vec<(String, String)> =
        [("MessageSid", sid), ("From", "+4915112345678"), ("To", to), ("Body", "Hallo")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    TwilioParams::from_pairs(&pairs).message_event(Utc::now() - Duration::minutes(1)).unwrap()
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    db.conn
        .query_one(Statement::from_string(
            db.conn.get_database_backend(),
            format!("SELECT CAST(({sql}) AS BIGINT)"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test]
async fn racing_deliveries_of_one_key_are_stored_once_in_group_commits() {
    each_engine(|db| async move {
        let persister = Persister::spawn(db.conn.clone(), WriteGate::for_db(&db.conn));
        let barrier = Arc::new(tokio::sync::Barrier::new(300));
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let (persister, barrier) = (persister.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    // Every third request repeats one key; the others are distinct.
                    let sid = if i % 3 == 0 { "SMsame".to_owned() } else { format!("SM{i}") };
                    persister.persist(vec![sms_event(&sid, "+4930901820")]).await.unwrap()
                })
            })
            .collect();
        let mut new = 0;
        for t in tasks {
            new += t.await.unwrap().iter().filter(|p| p.is_new()).count();
        }
        assert_eq!(new, 200 + 1, "each distinct key is new exactly once");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM inbound_events").await, 201);

        // Within one batch, a repeated key is stored once too.
        let batch = vec![sms_event("SMdup", "+1"), sms_event("SMdup", "+1"), sms_event("SMother", "+1")];
        let stored = persister.persist(batch).await.unwrap();
        assert!(matches!(stored.as_slice(), [Persisted::New(_), Persisted::Duplicate, Persisted::New(_)]));
    })
    .await;
}

#[tokio::test]
async fn processing_one_event_many_times_at_once_has_its_effects_once() {
    each_engine(|db| async move {
        workspace_with_number(&db, "+4930901820").await;
        let inbound = service(&db, 0);
        let event = sms_event("SM0123456789abcdef0123456789abcdef", "+4930901820");
        store::insert_batch(&db.conn, std::slice::from_ref(&event)).await.unwrap();
        let stored = event.stored();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (inbound, stored) = (inbound.clone(), stored.clone());
                tokio::spawn(async move { inbound.process(&stored).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), EventState::Processed);
        }
        let key = "sms:SM0123456789abcdef0123456789abcdef";
        assert_eq!(
            scalar(&db, &format!("SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key = '{key}'"))
                .await,
            1
        );
        assert_eq!(scalar(&db, "SELECT SUM(sms_used) FROM usage_counters").await, 1);
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM conversation_messages").await, 1);
        let e = store::find(&db.conn, Provider::Twilio, EventKind::Message, &event.external_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((e.state, e.attempts), (EventState::Processed, 1), "settled once");
    })
    .await;
}

#[tokio::test]
async fn an_event_is_settled_once_and_events_answered_at_once_are_stored_settled() {
    each_engine(|db| async move {
        let event = sms_event("SM1", "+4930901820");
        store::insert_batch(&db.conn, std::slice::from_ref(&event)).await.unwrap();
        let now = Utc::now();
        assert!(
            store::finish(&db.conn, &event.id, &Outcome::unroutable("number_not_held"), now).await.unwrap()
        );
        assert!(!store::finish(&db.conn, &event.id, &Outcome::processed(None), now).await.unwrap());
        let e = store::find(&db.conn, Provider::Twilio, EventKind::Message, "SM1").await.unwrap().unwrap();
        assert_eq!((e.state, e.reason.as_deref()), (EventState::Unroutable, Some("number_not_held")));
        assert_eq!(store::pending_count(&db.conn, now + Duration::hours(1)).await.unwrap(), 0);

        let mut answered =
            NewEvent::new(Provider::Vapi, EventKind::AssistantRequest, "call-1", "{}".into(), Utc::now());
        answered.settled = Some(Outcome::dropped(None, "limit_reached"));
        store::insert_batch(&db.conn, &[answered]).await.unwrap();
        let e = store::find(&db.conn, Provider::Vapi, EventKind::AssistantRequest, "call-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((e.state, e.reason.as_deref()), (EventState::Dropped, Some("limit_reached")));
        assert!(e.processed_at.is_some());
        assert_eq!(store::pending_count(&db.conn, now + Duration::hours(1)).await.unwrap(), 0);
    })
    .await;
}

/// Batches settled at once by several workers, each holding messages of every number in a
/// different order (the opposite lock orders that deadlock naive batching), plus a message
/// admitted before its batch: limits and the shared free tier come out exact.
#[tokio::test]
async fn racing_batches_admit_exactly_the_limits_and_hand_out_the_free_tier_once() {
    each_engine(|db| async move {
        const FREE_SMS: i64 = 25;
        let tenancy = TenancyService::new(db.conn.clone());
        let mut numbers = Vec::new();
        for w in 0..2 {
            let ws = tenancy
                .create_workspace(NewWorkspace { name: format!("W{w}"), timezone: None })
                .await
                .unwrap()
                .0
                .id;
            for (n, limit) in [Some(30), Some(40), None].into_iter().enumerate() {
                let phone = format!("+49309018{w}{n}0");
                let row = NumberRow { monthly_sms_limit: limit, ..NumberRow::new(&ws, &phone) };
                insert_numbers(&db.conn, &[row]).await.unwrap();
                numbers.push((ws.clone(), phone, limit));
            }
        }
        let inbound = service(&db, FREE_SMS);
        // 50 messages to each number, and a few to nobody's number.
        let mut events: Vec<NewEvent> = (0..300)
            .map(|i| sms_event(&format!("SM{i:04}"), &numbers[i % numbers.len()].1))
            .chain((0..4).map(|i| sms_event(&format!("SMnobody{i}"), "+4930999999")))
            .collect();
        events.push(sms_event("SMbad", "not a number"));
        store::insert_batch(&db.conn, &events).await.unwrap();
        let stored: Vec<_> = events.iter().map(NewEvent::stored).collect();

        // One message is admitted and appended first but not settled, as after a crash.
        assert_eq!(inbound.process(&stored[0]).await, EventState::Processed);
        let reset =
            "UPDATE inbound_events SET state = 'received', processed_at = NULL WHERE external_id = 'SM0000'";
        db.conn.execute_unprepared(reset).await.unwrap();

        let workers = 6;
        let tasks: Vec<_> = (0..workers)
            .map(|w| {
                // Runs of 5 consecutive events: messages to 5 different numbers.
                let mut mine: Vec<_> = stored
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i / 5) % workers == w)
                    .map(|(_, e)| e.clone())
                    .collect();
                if w % 2 == 1 {
                    mine.reverse();
                }
                let inbound = inbound.clone();
                tokio::spawn(async move {
                    let mut states = Vec::new();
                    for batch in mine.chunks(InboundService::BATCH / 4) {
                        states.extend(inbound.process_many(batch).await);
                    }
                    states
                })
            })
            .collect();
        let mut states = Vec::new();
        for t in tasks {
            states.extend(t.await.unwrap());
        }
        assert_eq!(states.len(), stored.len());
        assert!(!states.contains(&EventState::Received), "every event settled: {states:?}");

        let count = |sql: String| {
            let db = &db;
            async move { scalar(db, &sql).await }
        };
        let mut admitted_total = 0;
        for (ws, phone, limit) in &numbers {
            let admitted = limit.unwrap_or(50).min(50);
            admitted_total += admitted;
            let used = count(format!(
                "SELECT sms_used FROM usage_counters c JOIN numbers n ON n.id = c.number_id \
                 WHERE n.phone_number = '{phone}'"
            ))
            .await;
            assert_eq!(used, admitted, "{phone} counted");
            let dropped = count(format!(
                "SELECT COUNT(*) FROM inbound_events WHERE workspace_id = '{ws}' AND state = 'dropped' \
                 AND reason = 'limit_reached' AND payload LIKE '%{}%'",
                phone.trim_start_matches('+')
            ))
            .await;
            assert_eq!(dropped, 50 - admitted, "{phone} refused beyond its limit");
        }
        for (ws, _, _) in numbers.iter().step_by(3) {
            let ws_admitted = count(format!(
                "SELECT COUNT(*) FROM usage_records WHERE workspace_id = '{ws}' AND state = 'counted'"
            ))
            .await;
            let free = count(format!(
                "SELECT COALESCE(SUM(free_quantity), 0) FROM usage_records WHERE workspace_id = '{ws}'"
            ))
            .await;
            let charged = count(format!(
                "SELECT COUNT(*) FROM ledger_entries WHERE workspace_id = '{ws}' AND kind = 'sms'"
            ))
            .await;
            let workspace_counter =
                count(format!("SELECT sms_used FROM workspace_usage WHERE workspace_id = '{ws}'")).await;
            assert_eq!(workspace_counter, ws_admitted, "the workspace counter equals its records");
            assert_eq!(free, FREE_SMS, "the free tier handed out exactly once");
            assert_eq!(charged, ws_admitted - FREE_SMS, "every other message charged once");
        }
        assert_eq!(count("SELECT COUNT(*) FROM usage_records".into()).await, admitted_total);
        assert_eq!(count("SELECT COUNT(*) FROM conversation_messages".into()).await, admitted_total);
        assert_eq!(
            count("SELECT COUNT(*) FROM inbound_events WHERE state = 'unroutable'".into()).await,
            5,
            "nobody's number and a malformed To"
        );
    })
    .await;
}

/// Once a workspace's numbers have been routed, all its messages share one processing lane.
#[tokio::test]
async fn a_workspaces_messages_share_a_lane_once_its_numbers_are_known() {
    each_engine(|db| async move {
        let ws = workspace_with_number(&db, "+4930901820").await;
        insert_numbers(&db.conn, &[NumberRow::new(&ws, "+4930901821")]).await.unwrap();
        let inbound = service(&db, 100);
        let arrived = [sms_event("SMa", "+4930901820"), sms_event("SMb", "+4930901821")];
        store::insert_batch(&db.conn, &arrived).await.unwrap();
        let first: Vec<_> = arrived.iter().map(NewEvent::stored).collect();
        let later: Vec<_> = [sms_event("SMc", "+4930901820"), sms_event("SMd", "+4930901821")]
            .iter()
            .map(NewEvent::stored)
            .collect();
        const LANES: usize = 1 << 20;
        assert_eq!(inbound.lane(&first[0], LANES), inbound.lane(&later[0], LANES), "one number, one lane");
        inbound.process_many(&first).await;
        assert_eq!(inbound.lane(&later[0], LANES), inbound.lane(&later[1], LANES), "one workspace, one lane");
    })
    .await;
}

/// Two replicas storing the same deliveries at once, each batch in its own order (a provider
/// delivering one event to both): every key stored once, and no batch fails.
#[tokio::test]
async fn two_writers_storing_overlapping_batches_in_opposite_orders_never_fail() {
    each_engine(|db| async move {
        let (a, b) = (
            Persister::spawn(db.conn.clone(), WriteGate::for_db(&db.conn)),
            Persister::spawn(db.conn.clone(), WriteGate::for_db(&db.conn)),
        );
        for round in 0..20 {
            // Each replica reads the delivery into events of its own (own ids, same keys).
            let delivery = |i: usize| sms_event(&format!("SM{round}-{i}"), "+4930901820");
            let batch: Vec<NewEvent> = (0..250).map(delivery).collect();
            let reversed: Vec<NewEvent> = (0..250).rev().map(delivery).collect();
            let (x, y) = tokio::join!(a.persist(batch), b.persist(reversed));
            let new = x.unwrap().iter().chain(y.unwrap().iter()).filter(|p| p.is_new()).count();
            assert_eq!(new, 250, "round {round}: each key new exactly once");
        }
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM inbound_events").await, 5000);
    })
    .await;
}
