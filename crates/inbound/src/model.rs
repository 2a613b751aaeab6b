//! Inbound events as stored: who sent them, what kind, the provider's key, and where processing
//! left them.

use chrono::{DateTime, Utc};
use switchboard_core::{InboundEventId, WorkspaceId};

/// Who sent an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Twilio,
    Vapi,
    Meta,
    Sns,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twilio => "twilio",
            Provider::Vapi => "vapi",
            Provider::Meta => "meta",
            Provider::Sns => "sns",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Provider::Twilio, Provider::Vapi, Provider::Meta, Provider::Sns]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// What an event is. Together with the provider and the provider's id it is the event's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Twilio inbound SMS or WhatsApp message, keyed by `MessageSid`.
    Message,
    /// Twilio outbound message status, keyed by `MessageSid:MessageStatus`.
    MessageStatus,
    /// Twilio call status, keyed by `CallSid:CallStatus`.
    CallStatus,
    /// Vapi `assistant-request`, keyed by the call id; answered at once.
    AssistantRequest,
    /// Vapi `end-of-call-report`, keyed by the call id.
    EndOfCallReport,
    /// Vapi `transfer-destination-request`, keyed by the call id and the message's timestamp;
    /// answered at once.
    TransferDestinationRequest,
    /// Meta inbound WhatsApp message, keyed by `wamid`.
    WhatsappMessage,
    /// Meta WhatsApp message status, keyed by `wamid:status`.
    WhatsappStatus,
    /// SNS `Notification` (SES bounce, complaint, delivery…), keyed by `MessageId`.
    SnsNotification,
    /// SNS `SubscriptionConfirmation`, keyed by `MessageId`.
    SnsSubscriptionConfirmation,
    /// SNS `UnsubscribeConfirmation`, keyed by `MessageId`.
    SnsUnsubscribeConfirmation,
}

impl EventKind {
    pub const ALL: [EventKind; 11] = [
        EventKind::Message,
        EventKind::MessageStatus,
        EventKind::CallStatus,
        EventKind::AssistantRequest,
        EventKind::EndOfCallReport,
        EventKind::TransferDestinationRequest,
        EventKind::WhatsappMessage,
        EventKind::WhatsappStatus,
        EventKind::SnsNotification,
        EventKind::SnsSubscriptionConfirmation,
        EventKind::SnsUnsubscribeConfirmation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::MessageStatus => "message_status",
            EventKind::CallStatus => "call_status",
            EventKind::AssistantRequest => "assistant_request",
            EventKind::EndOfCallReport => "end_of_call_report",
            EventKind::TransferDestinationRequest => "transfer_destination_request",
            EventKind::WhatsappMessage => "whatsapp_message",
            EventKind::WhatsappStatus => "whatsapp_status",
            EventKind::SnsNotification => "notification",
            EventKind::SnsSubscriptionConfirmation => "subscription_confirmation",
            EventKind::SnsUnsubscribeConfirmation => "unsubscribe_confirmation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Answered while the provider waits (the answer is the effect); such an event is stored
    /// already settled, and one found unsettled later was never answered.
    pub fn is_answered_at_once(self) -> bool {
        matches!(self, EventKind::AssistantRequest | EventKind::TransferDestinationRequest)
    }
}

/// Where processing left an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventState {
    /// Stored and acknowledged, not yet processed.
    Received,
    /// Its effects are done (counted, appended, settled, opted out, answered…).
    Processed,
    /// Deliberately not passed on, with the reason (`number_disabled`, `sms_disabled`,
    /// `limit_reached`, …); nothing was charged.
    Dropped,
    /// Nobody here holds the number or address it was sent to.
    Unroutable,
    /// Processing failed too often; kept for a person to look at.
    Failed,
}

impl EventState {
    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Received => "received",
            EventState::Processed => "processed",
            EventState::Dropped => "dropped",
            EventState::Unroutable => "unroutable",
            EventState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            EventState::Received,
            EventState::Processed,
            EventState::Dropped,
            EventState::Unroutable,
            EventState::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// How processing ended: the state, its reason, and the workspace the event was routed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: EventState,
    /// A stable snake_case reason for `dropped`, `unroutable` and `failed`; for `processed`, what
    /// was done when it is worth saying (`opted_out`, `duplicate`, `not_metered`, …).
    pub reason: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
}

impl Outcome {
    pub fn processed(ws: Option<WorkspaceId>) -> Self {
        Self { state: EventState::Processed, reason: None, workspace_id: ws }
    }

    pub fn processed_because(ws: Option<WorkspaceId>, reason: &str) -> Self {
        Self { state: EventState::Processed, reason: Some(reason.to_owned()), workspace_id: ws }
    }

    pub fn dropped(ws: Option<WorkspaceId>, reason: &str) -> Self {
        Self { state: EventState::Dropped, reason: Some(reason.to_owned()), workspace_id: ws }
    }

    pub fn unroutable(reason: &str) -> Self {
        Self { state: EventState::Unroutable, reason: Some(reason.to_owned()), workspace_id: None }
    }
}

/// An authenticated event on its way into `inbound_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub id: InboundEventId,
    pub provider: Provider,
    pub kind: EventKind,
    /// The provider's id of the event (see [`EventKind`] for each kind's key).
    pub external_id: String,
    /// The payload as received and parsed (Twilio's parameters as a JSON object, the JSON of
    /// the others).
    pub payload: String,
    pub received_at: DateTime<Utc>,
    /// For events answered at once: how they were settled, stored with the event.
    pub settled: Option<Outcome>,
}

impl NewEvent {
    pub fn new(
        provider: Provider,
        kind: EventKind,
        external_id: impl Into<String>,
        payload: String,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: InboundEventId::new(),
            provider,
            kind,
            external_id: external_id.into(),
            payload,
            received_at,
            settled: None,
        }
    }

    /// The event as it will be stored (for handing a new one to processing without reading it
    /// back).
    pub fn stored(&self) -> StoredEvent {
        StoredEvent {
            id: self.id.clone(),
            provider: self.provider,
            kind: self.kind,
            external_id: self.external_id.clone(),
            payload: self.payload.clone(),
            received_at: self.received_at,
            attempts: 0,
        }
    }
}

/// A stored event to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: InboundEventId,
    pub provider: Provider,
    pub kind: EventKind,
    pub external_id: String,
    pub payload: String,
    pub received_at: DateTime<Utc>,
    pub attempts: i32,
}

/// What storing an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// Stored now: process it.
    New(StoredEvent),
    /// Its key was stored before (a redelivery): nothing changed.
    Duplicate,
}

impl Persisted {
    pub fn is_new(&self) -> bool {
        matches!(self, Persisted::New(_))
    }
}

/// An event as stored, for inspection (tests, operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: InboundEventId,
    pub provider: Provider,
    pub kind: EventKind,
    pub external_id: String,
    pub workspace_id: Option<WorkspaceId>,
    pub payload: String,
    pub state: EventState,
    pub reason: Option<String>,
    pub attempts: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// What a [`crate::InboundService::process_pending`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingSummary {
    /// Events looked at.
    pub seen: u64,
    pub processed: u64,
    pub dropped: u64,
    pub unroutable: u64,
    /// Given up on after too many attempts.
    pub failed: u64,
    /// Attempts that failed this time and will be retried.
    pub retried: u64,
}

impl PendingSummary {
    pub(crate) fn count(&mut self, state: EventState) {
        match state {
            EventState::Processed => self.processed += 1,
            EventState::Dropped => self.dropped += 1,
            EventState::Unroutable => self.unroutable += 1,
            EventState::Failed => self.failed += 1,
            EventState::Received => self.retried += 1,
        }
    }
}
