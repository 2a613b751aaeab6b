//! Conversation and opt-out storage on every engine: appending is idempotent by the provider's
//! message id, closed conversations reopen, time and status only move forward.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use switchboard_channels::Channel;
use switchboard_channels::conversations::{
    self, ConversationStatus, InboundMessage, MessageStatus, append_inbound, update_status,
};
use switchboard_channels::opt_outs::{OptOutSource, is_opted_out, opt_in, opt_out};
use switchboard_core::WorkspaceId;
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

async fn workspace(db: &TestDb) -> WorkspaceId {
    TenancyService::new(db.conn.clone())
        .create_workspace(NewWorkspace { name: "Acme".into(), timezone: None })
        .await
        .unwrap()
        .0
        .id
}

fn message(ws: &WorkspaceId, sid: &str, body: &str, at: DateTime<Utc>) -> InboundMessage {
    InboundMessage {
        workspace_id: ws.clone(),
        channel: Channel::Sms,
        business_address: "+4930901820".into(),
        contact: "+4915112345678".into(),
        agent_id: None,
        number_id: None,
        body: body.into(),
        media_urls: vec![],
        provider_message_id: sid.into(),
        received_at: at,
        whatsapp_connection_id: None,
    }
}

#[tokio::test]
async fn appending_is_idempotent_and_reopens_a_closed_conversation() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let t0 = switchboard_core::time::now();
        let first = append_inbound(&db.conn, message(&ws, "SM1", "Hallo", t0)).await.unwrap();
        assert!(first.new_conversation && first.message_id.is_some());
        let again = append_inbound(&db.conn, message(&ws, "SM1", "Hallo", t0)).await.unwrap();
        assert_eq!(again.conversation_id, first.conversation_id);
        assert!(again.message_id.is_none() && !again.new_conversation, "a repeat stores nothing");

        // An older message arriving late does not move the conversation back in time.
        append_inbound(&db.conn, message(&ws, "SM0", "Früher", t0 - Duration::minutes(5))).await.unwrap();
        let c = conversations::list(&db.conn, &ws).await.unwrap().remove(0);
        assert_eq!(c.last_message_at, t0);
        let bodies: Vec<_> = conversations::messages(&db.conn, &ws, &c.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(bodies, ["Früher", "Hallo"], "oldest first");

        assert!(conversations::set_status(&db.conn, &ws, &c.id, ConversationStatus::Closed).await.unwrap());
        let later = append_inbound(&db.conn, message(&ws, "SM2", "Noch da?", t0 + Duration::minutes(1)))
            .await
            .unwrap();
        assert!(later.reopened);
        let c = conversations::list(&db.conn, &ws).await.unwrap().remove(0);
        assert_eq!(c.status, ConversationStatus::Open);
        assert_eq!(c.last_inbound_at, Some(t0 + Duration::minutes(1)));

        // Another workspace's identical message is its own.
        let other = workspace(&db).await;
        let theirs = append_inbound(&db.conn, message(&other, "SM1", "Hallo", t0)).await.unwrap();
        assert!(theirs.new_conversation && theirs.message_id.is_some());
        assert_eq!(conversations::list(&db.conn, &ws).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_message_status_never_moves_backwards() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let a = append_inbound(&db.conn, message(&ws, "SM1", "Hallo", switchboard_core::time::now()))
            .await
            .unwrap();
        let status =
            || async { conversations::messages(&db.conn, &ws, &a.conversation_id).await.unwrap()[0].status };
        assert!(update_status(&db.conn, &ws, "SM1", MessageStatus::Delivered, None).await.unwrap());
        assert!(
            !update_status(&db.conn, &ws, "SM1", MessageStatus::Sent, None).await.unwrap(),
            "out of order"
        );
        assert!(!update_status(&db.conn, &ws, "SM1", MessageStatus::Failed, Some("30003")).await.unwrap());
        assert_eq!(status().await, MessageStatus::Delivered);
        assert!(update_status(&db.conn, &ws, "SM1", MessageStatus::Read, None).await.unwrap());
        assert_eq!(status().await, MessageStatus::Read);
        let other = workspace(&db).await;
        assert!(!update_status(&db.conn, &other, "SM1", MessageStatus::Read, None).await.unwrap(), "scoped");
    })
    .await;
}

#[tokio::test]
async fn opting_out_is_per_workspace_channel_and_contact() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let other = workspace(&db).await;
        let c = "+4915112345678";
        assert!(opt_out(&db.conn, &ws, Channel::Sms, c, OptOutSource::Keyword).await.unwrap());
        assert!(
            !opt_out(&db.conn, &ws, Channel::Sms, c, OptOutSource::ProviderRefusal).await.unwrap(),
            "kept once"
        );
        assert!(is_opted_out(&db.conn, &ws, Channel::Sms, c).await.unwrap());
        assert!(!is_opted_out(&db.conn, &ws, Channel::Whatsapp, c).await.unwrap());
        assert!(!is_opted_out(&db.conn, &other, Channel::Sms, c).await.unwrap());
        assert!(opt_in(&db.conn, &ws, Channel::Sms, c).await.unwrap());
        assert!(!opt_in(&db.conn, &ws, Channel::Sms, c).await.unwrap());
        assert!(!is_opted_out(&db.conn, &ws, Channel::Sms, c).await.unwrap());
    })
    .await;
}
