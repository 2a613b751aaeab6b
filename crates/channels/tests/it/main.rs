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

/// One batch over several threads: each thread gets one conversation (an existing one is found,
/// a closed one reopens, a new one is created once), a repeated id is stored once, and each
/// conversation's timestamps move to its latest message, never back.
#[tokio::test]
async fn a_batch_appends_to_each_thread_once_and_moves_each_conversation_to_its_latest_message() {
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let t0 = switchboard_core::time::now();
        let from = |contact: &str, sid: &str, at: DateTime<Utc>| InboundMessage {
            contact: contact.into(),
            ..message(&ws, sid, sid, at)
        };
        let (ada, bo, cy) = ("+4915100000001", "+4915100000002", "+4915100000003");
        let closed = append_inbound(&db.conn, from(bo, "SMb0", t0 + Duration::minutes(10))).await.unwrap();
        assert!(
            conversations::set_status(&db.conn, &ws, &closed.conversation_id, ConversationStatus::Closed)
                .await
                .unwrap()
        );

        let batch = vec![
            from(ada, "SMa1", t0 + Duration::minutes(2)),
            from(bo, "SMb1", t0 + Duration::minutes(1)),
            from(ada, "SMa2", t0 + Duration::minutes(3)),
            from(cy, "SMc1", t0),
            from(ada, "SMa1", t0 + Duration::minutes(2)),
            from(ada, "SMa0", t0 + Duration::minutes(1)),
        ];
        let appended = conversations::append_inbound_many(&db.conn, batch).await.unwrap();
        let flags: Vec<_> =
            appended.iter().map(|a| (a.message_id.is_some(), a.new_conversation, a.reopened)).collect();
        assert_eq!(
            flags,
            [
                (true, true, false),
                (true, false, true),
                (true, false, false),
                (true, true, false),
                (false, false, false),
                (true, false, false),
            ],
            "stored, created, reopened — per message in order"
        );
        assert_eq!(appended[1].conversation_id, closed.conversation_id, "the thread's conversation is found");
        assert_eq!(appended[0].conversation_id, appended[2].conversation_id);

        let all = conversations::list(&db.conn, &ws).await.unwrap();
        assert_eq!(all.len(), 3, "one conversation per thread");
        let of = |contact: &str| all.iter().find(|c| c.contact == contact).unwrap().clone();
        assert_eq!(of(ada).last_message_at, t0 + Duration::minutes(3), "the latest of the batch");
        assert_eq!(
            of(bo).last_message_at,
            t0 + Duration::minutes(10),
            "an earlier message never moves it back"
        );
        assert_eq!(of(bo).status, ConversationStatus::Open);
        assert_eq!(of(cy).last_inbound_at, Some(t0));
        let bodies: Vec<_> = conversations::messages(&db.conn, &ws, &of(ada).id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(bodies, ["SMa0", "SMa1", "SMa2"]);
    })
    .await;
}

/// A batch moves each conversation to the number of its latest message that names one; a later
/// batch that names none leaves it.
#[tokio::test]
async fn a_batch_takes_the_number_of_its_latest_message_that_names_one() {
    use switchboard_testkit::rows::{NumberRow, insert_numbers};
    each_engine(|db| async move {
        let ws = workspace(&db).await;
        let (first, second) = (NumberRow::new(&ws, "+4930901821"), NumberRow::new(&ws, "+4930901822"));
        insert_numbers(&db.conn, &[first.clone(), second.clone()]).await.unwrap();
        let t0 = switchboard_core::time::now();
        let via = |sid: &str, at: DateTime<Utc>, number: Option<&NumberRow>| InboundMessage {
            number_id: number.map(|n| n.id.clone()),
            ..message(&ws, sid, sid, at)
        };
        let batch = vec![
            via("SM1", t0, Some(&first)),
            via("SM2", t0 + Duration::minutes(1), Some(&second)),
            via("SM3", t0 + Duration::minutes(2), None),
        ];
        let appended = conversations::append_inbound_many(&db.conn, batch).await.unwrap();
        let number = || async {
            conversations::list(&db.conn, &ws)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == appended[0].conversation_id)
                .unwrap()
                .number_id
        };
        assert_eq!(number().await, Some(second.id.clone()), "the latest message that names a number");
        conversations::append_inbound_many(&db.conn, vec![via("SM4", t0 + Duration::minutes(3), None)])
            .await
            .unwrap();
        assert_eq!(number().await, Some(second.id.clone()), "a batch that names none leaves it");
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
