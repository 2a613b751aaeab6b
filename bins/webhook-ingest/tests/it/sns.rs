//! `POST /ses/notifications`: SNS signatures (the committed fixtures of webhook-auth, verified
//! with a fake certificate source), subscription confirmation, bounces and complaints.

use serde_json::Value;
use switchboard_channels::Channel;
use switchboard_channels::opt_outs::is_opted_out;
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_testkit::each_engine;

use crate::harness::{self, expect_problem, fixtures, spawn};

fn message_id(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["MessageId"].as_str().unwrap().to_owned()
}

fn edit(body: &str, field: &str, value: &str) -> String {
    let mut json: Value = serde_json::from_str(body).unwrap();
    json[field] = Value::String(value.to_owned());
    json.to_string()
}

#[tokio::test]
async fn a_subscription_confirmation_is_confirmed_at_its_genuine_sns_url() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        assert_eq!(ingest.sns(fixtures::SNS_SUBSCRIPTION).await.status(), 200);
        let id = message_id(fixtures::SNS_SUBSCRIPTION);
        let event = ingest.settled(Provider::Sns, EventKind::SnsSubscriptionConfirmation, &id).await;
        assert_eq!(
            (event.state, event.reason.as_deref()),
            (EventState::Processed, Some("subscription_confirmed"))
        );
        let confirmed = ingest.confirmer.confirmed.lock().unwrap().clone();
        assert_eq!(confirmed.len(), 1);
        assert!(
            confirmed[0].starts_with("https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription")
        );
    })
    .await;
}

#[tokio::test]
async fn forged_foreign_or_untrusted_sns_messages_are_refused_and_store_nothing() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let tampered = edit(fixtures::SNS_BOUNCE, "Message", "{\"notificationType\":\"Bounce\"}");
        expect_problem(ingest.sns(&tampered).await, 401, "signature_mismatch").await;
        let elsewhere = edit(fixtures::SNS_BOUNCE, "SigningCertURL", "https://evil.example.com/cert.pem");
        expect_problem(ingest.sns(&elsewhere).await, 403, "untrusted_host").await;
        let s3 =
            edit(fixtures::SNS_BOUNCE, "SigningCertURL", "https://sns.s3-us-west-2.amazonaws.com/cert.pem");
        expect_problem(ingest.sns(&s3).await, 403, "untrusted_host").await;
        let topic = edit(fixtures::SNS_BOUNCE, "TopicArn", "arn:aws:sns:eu-central-1:999999999999:theirs");
        expect_problem(ingest.sns(&topic).await, 403, "unexpected_topic").await;
        let subscribe = edit(fixtures::SNS_SUBSCRIPTION, "SubscribeURL", "https://evil.example.com/confirm");
        expect_problem(ingest.sns(&subscribe).await, 403, "untrusted_host").await;
        expect_problem(ingest.sns("not json").await, 400, "malformed_message").await;
        assert_eq!(ingest.event_count().await, 0);
        assert!(ingest.confirmer.confirmed.lock().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn permanent_bounces_and_complaints_opt_the_recipient_out_in_the_senders_workspace() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        // The fixtures' sender is desk@mail.example.com: an agent's reply-from address.
        let ws = harness::workspace(&ingest.db, "Mail sender").await;
        harness::live_agent(&ingest.db, &ws, serde_json::json!({"reply_from": "desk@mail.example.com"}))
            .await;
        let other = harness::workspace(&ingest.db, "Someone else").await;

        for _ in 0..2 {
            assert_eq!(ingest.sns(fixtures::SNS_BOUNCE).await.status(), 200);
        }
        let event = ingest
            .settled(Provider::Sns, EventKind::SnsNotification, &message_id(fixtures::SNS_BOUNCE))
            .await;
        assert_eq!(
            (event.state, event.workspace_id.as_ref()),
            (EventState::Processed, Some(&ws)),
            "{event:?}"
        );
        assert!(is_opted_out(&ingest.db.conn, &ws, Channel::Email, "nobody@example.org").await.unwrap());
        assert!(!is_opted_out(&ingest.db.conn, &other, Channel::Email, "nobody@example.org").await.unwrap());

        assert_eq!(ingest.sns(fixtures::SNS_COMPLAINT).await.status(), 200);
        let event = ingest
            .settled(Provider::Sns, EventKind::SnsNotification, &message_id(fixtures::SNS_COMPLAINT))
            .await;
        assert_eq!(event.state, EventState::Processed, "{event:?}");
        assert!(is_opted_out(&ingest.db.conn, &ws, Channel::Email, "someone@example.net").await.unwrap());
        assert_eq!(ingest.events(Provider::Sns).await.len(), 2, "the redelivered bounce is stored once");
    })
    .await;
}
