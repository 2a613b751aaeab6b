//! Processing: a stored event into its effects, and the answers Vapi waits for.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde_json::{Value, json};
use switchboard_agents::AgentService;
use switchboard_billing::{CallDecision, Meter, Refusal, SmsDecision, SmsRequest, UsageService};
use switchboard_channels::conversations::{self, InboundMessage, MessageStatus};
use switchboard_channels::opt_outs::{self, Keyword, OptOutSource};
use switchboard_channels::{Channel, snapshot, whatsapp};
use switchboard_core::{
    AgentId, Ctx, DomainError, E164, Error, InboundEventId, Language, Result, WorkspaceId,
};
use switchboard_forwarding::{ForwardingService, TransferDecision};
use switchboard_numbers::{Number, NumberService};
use switchboard_phone_lines::{LineRoute, PhoneLineService};
use switchboard_webhook_auth::sns::SubscriptionConfirmer;

use crate::gate::WriteGate;
use crate::model::{EventKind, EventState, NewEvent, Outcome, PendingSummary, StoredEvent};
use crate::payload::{TwilioParams, VapiMessage, channel_address, contact};
use crate::store;

/// Numbers remembered for [`InboundService::lane`] before the memory starts over.
const SEEN_WORKSPACES_MAX: usize = 100_000;

/// Twilio's error code for a recipient who unsubscribed (replied STOP).
const TWILIO_UNSUBSCRIBED: &str = "21610";

/// The services processing reaches.
#[derive(Clone)]
pub struct InboundService {
    db: DatabaseConnection,
    usage: UsageService,
    numbers: NumberService,
    lines: PhoneLineService,
    forwarding: ForwardingService,
    agents: AgentService,
    confirmer: Arc<dyn SubscriptionConfirmer>,
    max_attempts: i32,
    /// The workspace each number (`To`) was last routed to: a hint for [`Self::lane`] only,
    /// never for routing itself.
    seen_workspaces: Arc<std::sync::RwLock<HashMap<String, WorkspaceId>>>,
    gate: WriteGate,
}

impl std::fmt::Debug for InboundService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundService").field("max_attempts", &self.max_attempts).finish_non_exhaustive()
    }
}

/// What [`InboundService::wire`] builds the service from.
#[derive(Clone)]
pub struct Wiring {
    pub db: DatabaseConnection,
    pub prices: Arc<switchboard_billing::PriceList>,
    pub currency: switchboard_core::Currency,
    pub usage: switchboard_billing::UsageSettings,
    /// The numbers domain's provider ports (only its lookups are used here).
    pub numbers: switchboard_numbers::NumberProviders,
    pub public_base_url: String,
    pub confirmer: Arc<dyn SubscriptionConfirmer>,
}

impl std::fmt::Debug for Wiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiring").field("currency", &self.currency).finish_non_exhaustive()
    }
}

/// An answer Vapi is waiting for, and the event to store (already settled) before sending it.
#[derive(Debug, Clone, PartialEq)]
pub struct VapiAnswer {
    pub body: Value,
    pub event: NewEvent,
}

/// Where a call arrived: the number we hold (with its meter) and/or the phone line.
struct CallRoute {
    workspace_id: WorkspaceId,
    held: Option<(Number, Meter)>,
    line: Option<LineRoute>,
}

impl CallRoute {
    fn agent(&self) -> Option<&AgentId> {
        self.line
            .as_ref()
            .map(|l| &l.agent_id)
            .or_else(|| self.held.as_ref().and_then(|(n, _)| n.agent_id.as_ref()))
    }

    fn language(&self) -> Option<Language> {
        self.line.as_ref().map(|l| l.language)
    }
}

/// Spoken to a caller whose call is refused.
fn refusal_words(reason: &str) -> &'static str {
    match reason {
        "limit_reached" => "Sorry, this number cannot take more calls this month. Please try again later.",
        "not_in_service" => "Sorry, this number is not in service.",
        _ => "Sorry, this number cannot take calls right now. Please try again later.",
    }
}

fn failure_reason(e: &Error) -> String {
    e.code().to_owned()
}

impl InboundService {
    /// Attempts after which an event that keeps failing is left `failed`.
    pub const MAX_ATTEMPTS: i32 = 5;

    /// Messages settled in one transaction at most. Larger batches commit less often but hold
    /// SQLite's single write lock longer, which the event writer (and so every answer) waits for.
    pub const BATCH: usize = 64;

    pub fn new(
        db: DatabaseConnection,
        usage: UsageService,
        numbers: NumberService,
        lines: PhoneLineService,
        forwarding: ForwardingService,
        agents: AgentService,
        confirmer: Arc<dyn SubscriptionConfirmer>,
    ) -> Self {
        let gate = WriteGate::for_db(&db);
        Self {
            db,
            usage,
            numbers,
            lines,
            forwarding,
            agents,
            confirmer,
            max_attempts: Self::MAX_ATTEMPTS,
            seen_workspaces: Arc::default(),
            gate,
        }
    }

    /// Builds the service and the domain services it uses, as a binary does at start-up.
    pub fn wire(w: Wiring) -> Self {
        let tenancy = switchboard_tenancy::TenancyService::new(w.db.clone());
        let agents = AgentService::new(w.db.clone(), tenancy.clone());
        let billing = switchboard_billing::BillingService::new(w.db.clone(), w.prices, w.currency);
        let usage = UsageService::new(w.db.clone(), tenancy.clone(), w.currency, w.usage);
        let numbers =
            NumberService::new(w.db.clone(), tenancy, agents.clone(), billing, w.numbers, &w.public_base_url);
        let lines = PhoneLineService::new(w.db.clone(), agents.clone());
        let forwarding = ForwardingService::new(w.db.clone(), agents.clone());
        Self::new(w.db, usage, numbers, lines, forwarding, agents, w.confirmer)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The turns this service's batches write in; the event writer of the same process takes
    /// them too ([`crate::Persister::spawn`]).
    pub fn write_gate(&self) -> WriteGate {
        self.gate.clone()
    }

    /// Processes one stored event and answers the state it is left in (`received` when this
    /// attempt failed and it will be retried). Safe to run twice, also concurrently: every
    /// effect is keyed by the provider's id, and only the first settles the event.
    pub async fn process(&self, event: &StoredEvent) -> EventState {
        if event.kind == EventKind::Message {
            return self.messages(&[event]).await.pop().unwrap_or(EventState::Received);
        }
        let result = self.apply(event).await;
        let now = switchboard_core::time::now();
        match result {
            Ok(outcome) => match store::finish(&self.db, &event.id, &outcome, now).await {
                Ok(_) => outcome.state,
                Err(e) => self.failed(event, &Error::from(e), now).await,
            },
            Err(e) => self.failed(event, &e, now).await,
        }
    }

    /// Which of `lanes` processing lanes should take `event`: a workspace's messages go to one
    /// lane (once one of its messages has been routed), so concurrent batches seldom wait for
    /// each other's counter locks. Only a hint — the locks keep any assignment correct.
    pub fn lane(&self, event: &StoredEvent, lanes: usize) -> usize {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = |key: &str| BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let key = match event.kind {
            EventKind::Message => TwilioParams::from_stored(&event.payload)
                .ok()
                .and_then(|p| p.get("To").map(|to| channel_address(to).1.to_owned()))
                .map(|to| match self.seen_workspaces.read().ok().and_then(|m| m.get(&to).cloned()) {
                    Some(ws) => hash(ws.as_str()),
                    None => hash(&to),
                }),
            _ => None,
        };
        let key = key.unwrap_or_else(|| hash(&event.external_id));
        (key % lanes.max(1) as u64) as usize
    }

    /// Processes stored events and answers the state each is left in (in no particular order).
    /// The Twilio messages among them — the bulk of the traffic — are settled together in one
    /// transaction, the rest one by one.
    pub async fn process_many(&self, events: &[StoredEvent]) -> Vec<EventState> {
        let (messages, others): (Vec<&StoredEvent>, Vec<&StoredEvent>) =
            events.iter().partition(|e| e.kind == EventKind::Message);
        let mut states = self.messages(&messages).await;
        for event in others {
            states.push(self.process(event).await);
        }
        states
    }

    async fn failed(&self, event: &StoredEvent, e: &Error, now: DateTime<Utc>) -> EventState {
        let reason = failure_reason(e);
        tracing::warn!(event_id = %event.id, kind = event.kind.as_str(), error = %e, "processing an inbound event failed");
        match store::fail(&self.db, &event.id, &reason, self.max_attempts, now).await {
            Ok(state) => state,
            Err(e) => {
                tracing::error!(event_id = %event.id, error = %e, "recording a failed attempt failed");
                EventState::Received
            }
        }
    }

    /// Processes up to `limit` events still `received` that arrived before `received_before`
    /// (oldest first): start-up recovery after a crash, billing-cron, and the periodic sweep of
    /// events the in-process queue could not take.
    pub async fn process_pending(
        &self,
        received_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<PendingSummary> {
        let events = store::pending(&self.db, received_before, limit).await?;
        let mut summary = PendingSummary { seen: events.len() as u64, ..PendingSummary::default() };
        for batch in events.chunks(Self::BATCH) {
            for state in self.process_many(batch).await {
                summary.count(state);
            }
        }
        if summary.seen > 0 {
            tracing::info!(
                seen = summary.seen,
                processed = summary.processed,
                dropped = summary.dropped,
                unroutable = summary.unroutable,
                failed = summary.failed,
                retried = summary.retried,
                "processed pending inbound events"
            );
        }
        Ok(summary)
    }

    /// How many events are still `received` that arrived before `received_before`.
    pub async fn pending_count(&self, received_before: DateTime<Utc>) -> Result<u64> {
        Ok(store::pending_count(&self.db, received_before).await?)
    }

    /// The effects of an event other than a Twilio message (those go through
    /// [`InboundService::messages`]).
    async fn apply(&self, event: &StoredEvent) -> Result<Outcome> {
        match event.kind {
            EventKind::Message => Err(Error::Internal("messages are settled in batches".into())),
            EventKind::MessageStatus => self.twilio_message_status(event).await,
            EventKind::CallStatus => self.twilio_call_status(event).await,
            EventKind::EndOfCallReport => self.vapi_end_of_call(event).await,
            // Answered while Vapi waited and stored settled; one still `received` never was.
            EventKind::AssistantRequest | EventKind::TransferDestinationRequest => {
                Ok(Outcome::dropped(None, "not_answered"))
            }
            EventKind::WhatsappMessage => self.meta_message(event).await,
            EventKind::WhatsappStatus => self.meta_status(event).await,
            EventKind::SnsNotification => self.ses_notification(event).await,
            EventKind::SnsSubscriptionConfirmation => self.sns_confirm(event).await,
            EventKind::SnsUnsubscribeConfirmation => {
                tracing::warn!(event_id = %event.id, "SNS says our subscription was removed");
                Ok(Outcome::processed_because(None, "unsubscribed"))
            }
        }
    }

    // ---------------------------------------------------------------- Twilio messages

    /// Settles Twilio messages (inbound SMS / WhatsApp) in one transaction; if it fails, each
    /// message on its own, so one bad event fails alone and the rest still settle.
    async fn messages(&self, events: &[&StoredEvent]) -> Vec<EventState> {
        match self.messages_together(events).await {
            Ok(states) => states,
            Err(e) if events.len() == 1 => {
                vec![self.failed(events[0], &e, switchboard_core::time::now()).await]
            }
            Err(e) => {
                tracing::debug!(events = events.len(), error = %e, "a batch of messages failed; settling them one by one");
                let mut states = Vec::with_capacity(events.len());
                for event in events {
                    states.push(match self.messages_together(&[event]).await {
                        Ok(mut s) => s.pop().unwrap_or(EventState::Received),
                        Err(e) => self.failed(event, &e, switchboard_core::time::now()).await,
                    });
                }
                states
            }
        }
    }

    /// Routes each message by `To` (reads, outside the transaction: the batch's numbers in two
    /// statements), then settles them all in one transaction whose statements grow with the
    /// numbers and workspaces the batch touches, not with its messages: admission of the SMS
    /// (whose first statements lock the month counters, in the order every writer shares), each
    /// message's keywords and checks, the conversations (four statements), the events (one).
    async fn messages_together(&self, events: &[&StoredEvent]) -> Result<Vec<EventState>> {
        // Each payload read once; every number the batch was sent to looked up at once.
        let addressed: Vec<_> = events.iter().map(|e| addressed(e)).collect();
        let phones: std::collections::BTreeSet<&E164> =
            addressed.iter().filter_map(|a| a.as_ref().ok().map(|(_, _, to)| to)).collect();
        let phones: Vec<E164> = phones.into_iter().cloned().collect();
        let held = self.numbers.meters_by_phone(&phones).await?;
        let routed: Vec<_> =
            events.iter().zip(addressed).map(|(event, a)| self.route_message(event, a, &held)).collect();
        let _turn = self.gate.enter().await;
        let txn = self.db.begin().await?;
        let mut admissions: Vec<Option<SmsDecision>> = vec![None; events.len()];
        let sms: Vec<(usize, SmsRequest<'_>)> = events
            .iter()
            .zip(&routed)
            .enumerate()
            .filter_map(|(i, (event, r))| match r {
                Ok(m) if m.channel != Channel::Whatsapp => {
                    Some((i, SmsRequest { meter: &m.meter, message_id: &m.sid, at: event.received_at }))
                }
                _ => None,
            })
            .collect();
        let requests: Vec<SmsRequest<'_>> = sms.iter().map(|(_, r)| *r).collect();
        for ((i, _), decision) in sms.iter().zip(self.usage.admit_sms_many(&txn, &requests).await?) {
            admissions[*i] = Some(decision);
        }

        let mut outcomes = Vec::with_capacity(events.len());
        let mut appends = Vec::new();
        for ((event, routed), admission) in events.iter().zip(routed).zip(admissions) {
            outcomes.push(match routed {
                Ok(message) => self.apply_message(&txn, event, message, admission, &mut appends).await?,
                Err(outcome) => outcome,
            });
        }
        conversations::append_inbound_many(&txn, appends).await?;
        let settling: Vec<(&InboundEventId, &Outcome)> =
            events.iter().map(|e| &e.id).zip(&outcomes).collect();
        let settled = store::finish_many(&txn, &settling, switchboard_core::time::now()).await?;
        txn.commit().await?;
        Ok(events
            .iter()
            .zip(outcomes)
            .map(
                |(event, outcome)| {
                    if settled.contains(&event.id) { outcome.state } else { EventState::Processed }
                },
            )
            .collect())
    }

    /// The number a message was sent to (among the batch's `held` numbers), or the outcome of
    /// one that goes nowhere.
    fn route_message(
        &self,
        event: &StoredEvent,
        addressed: std::result::Result<(TwilioParams, Channel, E164), Outcome>,
        held: &HashMap<E164, (Number, Meter)>,
    ) -> std::result::Result<RoutedMessage, Outcome> {
        let (params, channel, to) = addressed?;
        let Some((number, meter)) = held.get(&to).cloned() else {
            return Err(Outcome::unroutable("number_not_held"));
        };
        if let Ok(mut seen) = self.seen_workspaces.write() {
            if seen.len() >= SEEN_WORKSPACES_MAX {
                seen.clear();
            }
            seen.insert(to.to_string(), meter.workspace_id.clone());
        }
        let sid = params.message_sid().unwrap_or(&event.external_id).to_owned();
        Ok(RoutedMessage { params, sid, channel, to, number, meter })
    }

    /// Keywords and the checks of one routed message, inside `txn`, given its admission (SMS
    /// only); a message that goes through is added to `appends` for its conversation.
    async fn apply_message(
        &self,
        txn: &DatabaseTransaction,
        event: &StoredEvent,
        m: RoutedMessage,
        admission: Option<SmsDecision>,
        appends: &mut Vec<InboundMessage>,
    ) -> Result<Outcome> {
        let RoutedMessage { params: p, sid, channel, to, number, meter } = m;
        let ws = meter.workspace_id.clone();
        let from = contact(channel_address(p.get("From").unwrap_or_default()).1);
        let body = p.get("Body").unwrap_or_default().to_owned();

        // Opting out must work whatever state the number is in.
        let reason = apply_keyword(txn, &ws, channel, &from, &body).await?;

        match (channel, admission) {
            // WhatsApp is not metered (SPEC §9 meters minutes and SMS); the number must be
            // enabled and its agent must have WhatsApp switched on.
            (Channel::Whatsapp, _) => {
                if !meter.enabled {
                    return Ok(Outcome::dropped(Some(ws), Refusal::NumberDisabled.code()));
                }
                let on = match &number.agent_id {
                    Some(agent) => snapshot(txn, &ws, agent).await?.whatsapp_enabled,
                    None => false,
                };
                if !on {
                    return Ok(Outcome::dropped(Some(ws), "whatsapp_disabled"));
                }
            }
            (_, Some(SmsDecision::Admitted(_))) => {}
            (_, Some(SmsDecision::Refused(refusal))) => {
                return Ok(Outcome::dropped(Some(ws), refusal.code()));
            }
            (_, None) => return Err(Error::Internal("an SMS was settled without its admission".into())),
        }

        appends.push(InboundMessage {
            workspace_id: ws.clone(),
            channel,
            business_address: to.to_string(),
            contact: from,
            agent_id: number.agent_id.clone(),
            number_id: Some(number.id.clone()),
            body,
            media_urls: p.media_urls(),
            provider_message_id: sid,
            received_at: event.received_at,
            whatsapp_connection_id: None,
        });
        Ok(Outcome {
            state: EventState::Processed,
            reason: reason.map(str::to_owned),
            workspace_id: Some(ws),
        })
    }

    /// Outbound message status: the message's status moves forward; 21610 is an opt-out.
    async fn twilio_message_status(&self, event: &StoredEvent) -> Result<Outcome> {
        let Ok(p) = TwilioParams::from_stored(&event.payload) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let (channel, from) = channel_address(p.get("From").unwrap_or_default());
        let Ok(from) = E164::parse(from) else {
            return Ok(Outcome::unroutable("invalid_from"));
        };
        let Some((_, meter)) = self.numbers.meter_by_phone(&from).await? else {
            return Ok(Outcome::unroutable("number_not_held"));
        };
        let ws = meter.workspace_id;
        let sid = p.message_sid().unwrap_or_default();
        let error_code = p.get("ErrorCode");
        if let Some(status) =
            p.get("MessageStatus").or_else(|| p.get("SmsStatus")).and_then(MessageStatus::from_provider)
        {
            conversations::update_status(&self.db, &ws, sid, status, error_code).await?;
        }
        if error_code == Some(TWILIO_UNSUBSCRIBED) {
            let recipient = contact(channel_address(p.get("To").unwrap_or_default()).1);
            opt_outs::opt_out(&self.db, &ws, channel, &recipient, OptOutSource::ProviderRefusal).await?;
            return Ok(Outcome::processed_because(Some(ws), "opted_out"));
        }
        Ok(Outcome::processed(Some(ws)))
    }

    /// Call status: a completed call counts its minutes once (`call:<CallSid>`, shared with
    /// Vapi's report); a call that never connected releases its reservation.
    async fn twilio_call_status(&self, event: &StoredEvent) -> Result<Outcome> {
        let Ok(p) = TwilioParams::from_stored(&event.payload) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let sid = p.get("CallSid").unwrap_or_default().to_owned();
        let seconds = match p.get("CallStatus").unwrap_or_default() {
            "completed" => p.get("CallDuration").and_then(|d| d.trim().parse::<u64>().ok()).unwrap_or(0),
            "busy" | "failed" | "no-answer" | "canceled" => 0,
            // Progress (queued, ringing, in-progress): nothing to count yet.
            _ => return Ok(Outcome::processed_because(None, "in_progress")),
        };
        let mut held = None;
        for side in ["To", "From"] {
            if let Ok(n) = E164::parse(p.get(side).unwrap_or_default()) {
                held = self.numbers.meter_by_phone(&n).await?;
                if held.is_some() {
                    break;
                }
            }
        }
        let Some((_, meter)) = held else {
            return Ok(Outcome::unroutable("number_not_held"));
        };
        let s = self.usage.settle_call(&meter, &sid, Duration::from_secs(seconds), event.received_at).await?;
        let ws = Some(meter.workspace_id);
        Ok(if s.duplicate {
            Outcome::processed_because(ws, "already_settled")
        } else {
            Outcome::processed(ws)
        })
    }

    // ---------------------------------------------------------------- Vapi

    async fn route_call(&self, m: &VapiMessage) -> Result<Option<CallRoute>> {
        let held = match m.called_number() {
            Some(n) => self.numbers.meter_by_phone(&n).await?,
            None => None,
        };
        let line = match (m.vapi_phone_number_id(), m.called_number()) {
            (Some(id), _) => self.lines.route_for_vapi_id(id).await?,
            (None, Some(n)) => self.lines.route_for_number(&n).await?,
            (None, None) => None,
        };
        let line = match (&held, line) {
            // A line of another workspace cannot take over a number this one holds.
            (Some((_, meter)), Some(l)) if l.workspace_id != meter.workspace_id => {
                tracing::warn!(line_id = %l.line_id, "a phone line names a number another workspace holds; ignored");
                None
            }
            (_, line) => line,
        };
        let workspace_id = match (&held, &line) {
            (Some((_, meter)), _) => meter.workspace_id.clone(),
            (None, Some(l)) => l.workspace_id.clone(),
            (None, None) => return Ok(None),
        };
        Ok(Some(CallRoute { workspace_id, held, line }))
    }

    /// `assistant-request`: which assistant answers, in which language, with which transfer
    /// destinations and for how long at most — or a refusal the caller hears.
    pub async fn answer_assistant_request(
        &self,
        m: &VapiMessage,
        received_at: DateTime<Utc>,
    ) -> Result<VapiAnswer> {
        let mut event =
            m.event(received_at).ok().flatten().ok_or_else(|| Error::invalid("message", "no call"))?;
        let (body, outcome) = self.assistant(m, received_at).await?;
        event.settled = Some(outcome);
        Ok(VapiAnswer { body, event })
    }

    async fn assistant(&self, m: &VapiMessage, at: DateTime<Utc>) -> Result<(Value, Outcome)> {
        let refuse = |ws: Option<WorkspaceId>, state: EventState, reason: &str| {
            let outcome = Outcome { state, reason: Some(reason.to_owned()), workspace_id: ws };
            (json!({"error": refusal_words(reason)}), outcome)
        };
        let Some(route) = self.route_call(m).await? else {
            return Ok(refuse(None, EventState::Unroutable, "not_in_service"));
        };
        let ws = route.workspace_id.clone();
        if let Some((_, meter)) = &route.held {
            let refusal = if !meter.enabled {
                Some(Refusal::NumberDisabled)
            } else if !meter.calls_enabled {
                Some(Refusal::CallsDisabled)
            } else {
                None
            };
            if let Some(r) = refusal {
                return Ok(refuse(Some(ws), EventState::Dropped, r.code()));
            }
        }
        let Some(agent_id) = route.agent().cloned() else {
            return Ok(refuse(Some(ws), EventState::Dropped, "no_agent"));
        };
        let agent = match self.agents.get(&Ctx::system(ws.clone()), &agent_id).await {
            Ok(a) => a,
            Err(e) if e.code() == "not_found" => {
                return Ok(refuse(Some(ws), EventState::Dropped, "no_agent"));
            }
            Err(e) => return Err(e),
        };
        if !agent.is_live() {
            return Ok(refuse(Some(ws), EventState::Dropped, "agent_not_live"));
        }
        let Some(assistant_id) = snapshot(&self.db, &ws, &agent_id).await?.vapi_assistant_id else {
            return Ok(refuse(Some(ws), EventState::Dropped, "no_assistant"));
        };
        let max_seconds = match &route.held {
            Some((_, meter)) => {
                let key = m.call_key().ok_or_else(|| Error::invalid("call", "the call has no id"))?;
                match self.usage.reserve_call(meter, key, at).await? {
                    CallDecision::Admitted(grant) => grant.max_duration_seconds(),
                    CallDecision::Refused(r) => return Ok(refuse(Some(ws), EventState::Dropped, r.code())),
                }
            }
            // A line on a number we do not hold is not metered; the call cap still applies.
            None => self.usage.settings().max_call_minutes * 60,
        };
        let destinations = self.forwarding.transfer_destinations(&ws, &agent_id, at).await?;

        let mut overrides = json!({
            "maxDurationSeconds": max_seconds,
            "variableValues": {"agentName": agent.name},
            "metadata": {
                "switchboardWorkspaceId": ws.to_string(),
                "switchboardAgentId": agent_id.to_string(),
            },
        });
        if let Some(language) = route.language() {
            // The line's language for the whole call, whatever the caller's country (SPEC §5).
            overrides["transcriber"] =
                json!({"provider": "deepgram", "model": "nova-2", "language": language.code()});
            overrides["variableValues"]["language"] = json!(language.code());
        }
        if let Some(line) = &route.line {
            overrides["metadata"]["switchboardLineId"] = json!(line.line_id.to_string());
        }
        if let Some((number, _)) = &route.held {
            overrides["metadata"]["switchboardNumberId"] = json!(number.id.to_string());
        }
        if !destinations.is_empty() {
            overrides["tools:append"] = json!([{
                "type": "transferCall",
                "destinations": destinations.iter().map(|d| d.to_vapi()).collect::<Vec<_>>(),
            }]);
        }
        let body = json!({"assistantId": assistant_id, "assistantOverrides": overrides});
        Ok((body, Outcome::processed(Some(ws))))
    }

    /// `transfer-destination-request`: the target the caller asked for when it is open, its
    /// fallback message when it is closed; with no name asked for, the first open target.
    pub async fn answer_transfer_request(
        &self,
        m: &VapiMessage,
        received_at: DateTime<Utc>,
    ) -> Result<VapiAnswer> {
        let mut event =
            m.event(received_at).ok().flatten().ok_or_else(|| Error::invalid("message", "no call"))?;
        let (body, outcome) = self.transfer(m, received_at).await?;
        event.settled = Some(outcome);
        Ok(VapiAnswer { body, event })
    }

    async fn transfer(&self, m: &VapiMessage, at: DateTime<Utc>) -> Result<(Value, Outcome)> {
        let nobody = "Sorry, nobody is available to take your call right now.";
        let Some(route) = self.route_call(m).await? else {
            return Ok((json!({"error": nobody}), Outcome::unroutable("not_in_service")));
        };
        let ws = route.workspace_id.clone();
        let Some(agent) = route.agent().cloned() else {
            return Ok((json!({"error": nobody}), Outcome::dropped(Some(ws), "no_agent")));
        };
        match m.transfer_query() {
            Some(query) => match self.forwarding.decide_transfer(&ws, &agent, &query, at).await? {
                TransferDecision::Transfer(d) => Ok((
                    json!({"destination": d.to_vapi()}),
                    Outcome::processed_because(Some(ws), "transferred"),
                )),
                TransferDecision::Closed { message, .. } => {
                    Ok((json!({"error": message}), Outcome::processed_because(Some(ws), "target_closed")))
                }
                TransferDecision::NoMatch => Ok((
                    json!({"error": format!("Sorry, I could not find {query}.")}),
                    Outcome::processed_because(Some(ws), "no_match"),
                )),
            },
            None => match self.forwarding.transfer_destinations(&ws, &agent, at).await?.into_iter().next() {
                Some(d) => Ok((
                    json!({"destination": d.to_vapi()}),
                    Outcome::processed_because(Some(ws), "transferred"),
                )),
                None => Ok((json!({"error": nobody}), Outcome::processed_because(Some(ws), "nobody_open"))),
            },
        }
    }

    /// `end-of-call-report`: settles the call's minutes (`endedAt − startedAt`), once.
    async fn vapi_end_of_call(&self, event: &StoredEvent) -> Result<Outcome> {
        let Ok(m) = VapiMessage::from_stored(&event.payload) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let Some(key) = m.call_key().map(str::to_owned) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let Some(route) = self.route_call(&m).await? else {
            return Ok(Outcome::unroutable("number_not_held"));
        };
        let Some((_, meter)) = &route.held else {
            return Ok(Outcome::processed_because(Some(route.workspace_id), "not_metered"));
        };
        let at = m.ended_at().unwrap_or(event.received_at);
        let s = self.usage.settle_call(meter, &key, m.duration(), at).await?;
        let ws = Some(route.workspace_id);
        Ok(if s.duplicate {
            Outcome::processed_because(ws, "already_settled")
        } else {
            Outcome::processed(ws)
        })
    }

    // ---------------------------------------------------------------- SNS (SES feedback)

    async fn sns_confirm(&self, event: &StoredEvent) -> Result<Outcome> {
        let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
        let Some(url) = payload.get("SubscribeURL").and_then(Value::as_str) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        self.confirmer.confirm(url).await.map_err(|e| switchboard_core::ProviderError::Unavailable {
            provider: "sns",
            message: e.to_string(),
        })?;
        Ok(Outcome::processed_because(None, "subscription_confirmed"))
    }

    // ---------------------------------------------------------------- Meta (WhatsApp Cloud API)

    /// An inbound WhatsApp message, routed by `metadata.phone_number_id` to its connection:
    /// keywords, then (connection active, its agent's WhatsApp on) the conversation. WhatsApp is
    /// not metered. A number no connection claims is unroutable — and found again when the
    /// event is reprocessed after one is created.
    async fn meta_message(&self, event: &StoredEvent) -> Result<Outcome> {
        let Ok(payload) = serde_json::from_str::<Value>(&event.payload) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let message = &payload["message"];
        let (Some(pnid), Some(from)) =
            (payload["metadata"]["phone_number_id"].as_str(), message["from"].as_str())
        else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let Some(route) = whatsapp::route_meta(&self.db, pnid).await? else {
            return Ok(Outcome::unroutable("no_whatsapp_connection"));
        };
        let ws = route.workspace_id.clone();
        // Meta writes the sender's number as digits (`wa_id`) without the plus.
        let from = contact(&format!("+{}", from.trim_start_matches('+')));
        let body = meta_text(message);
        let txn = self.db.begin().await?;
        let reason = apply_keyword(&txn, &ws, Channel::Whatsapp, &from, &body).await?;
        let on = match (&route.agent_id, route.active) {
            (Some(agent), true) => snapshot(&txn, &ws, agent).await?.whatsapp_enabled,
            _ => false,
        };
        let outcome = if !route.active {
            Outcome::dropped(Some(ws), "connection_inactive")
        } else if !on {
            Outcome::dropped(Some(ws), "whatsapp_disabled")
        } else {
            conversations::append_inbound(
                &txn,
                InboundMessage {
                    workspace_id: ws.clone(),
                    channel: Channel::Whatsapp,
                    business_address: pnid.to_owned(),
                    contact: from,
                    agent_id: route.agent_id.clone(),
                    number_id: None,
                    body,
                    media_urls: Vec::new(),
                    provider_message_id: event.external_id.clone(),
                    received_at: event.received_at,
                    whatsapp_connection_id: Some(route.connection_id.clone()),
                },
            )
            .await?;
            Outcome {
                state: EventState::Processed,
                reason: reason.map(str::to_owned),
                workspace_id: Some(ws),
            }
        };
        txn.commit().await?;
        Ok(outcome)
    }

    /// A status of a message we sent through Meta: the message's status moves forward.
    async fn meta_status(&self, event: &StoredEvent) -> Result<Outcome> {
        let Ok(payload) = serde_json::from_str::<Value>(&event.payload) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let status = &payload["status"];
        let (Some(pnid), Some(id), Some(state)) = (
            payload["metadata"]["phone_number_id"].as_str(),
            status["id"].as_str(),
            status["status"].as_str(),
        ) else {
            return Ok(Outcome::dropped(None, "malformed_payload"));
        };
        let Some(route) = whatsapp::route_meta(&self.db, pnid).await? else {
            return Ok(Outcome::unroutable("no_whatsapp_connection"));
        };
        let ws = route.workspace_id;
        let Some(state) = MessageStatus::from_provider(state) else {
            return Ok(Outcome::processed_because(Some(ws), "unknown_status"));
        };
        let error_code = status["errors"][0]["code"].as_i64().map(|c| c.to_string());
        conversations::update_status(&self.db, &ws, id, state, error_code.as_deref()).await?;
        Ok(Outcome::processed(Some(ws)))
    }

    /// SES bounces and complaints: permanent bounces and complaints opt the recipient out of
    /// email in the sender's workspace. Deliveries and other notifications change nothing.
    async fn ses_notification(&self, event: &StoredEvent) -> Result<Outcome> {
        let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
        let ses: Value = payload
            .get("Message")
            .and_then(Value::as_str)
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(Value::Null);
        let kind = ses.get("notificationType").or_else(|| ses.get("eventType")).and_then(Value::as_str);
        let (recipients, source) = match kind {
            Some("Bounce") => {
                if ses.pointer("/bounce/bounceType").and_then(Value::as_str) != Some("Permanent") {
                    return Ok(Outcome::processed_because(None, "transient_bounce"));
                }
                (ses.pointer("/bounce/bouncedRecipients"), OptOutSource::Bounce)
            }
            Some("Complaint") => (ses.pointer("/complaint/complainedRecipients"), OptOutSource::Complaint),
            _ => return Ok(Outcome::processed_because(None, "ignored")),
        };
        let sender = ses.pointer("/mail/source").and_then(Value::as_str).map(address_of).unwrap_or_default();
        let candidates = switchboard_email_identities::workspaces_sending_as(&self.db, &sender).await?;
        let tagged = ses
            .pointer("/mail/tags/workspace_id/0")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<WorkspaceId>().ok());
        let ws = match (candidates.as_slice(), tagged) {
            ([only], _) => only.clone(),
            ([], _) => return Ok(Outcome::unroutable("sender_not_found")),
            (many, Some(t)) if many.contains(&t) => t,
            _ => return Ok(Outcome::unroutable("sender_ambiguous")),
        };
        let addresses: Vec<String> = recipients
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("emailAddress").and_then(Value::as_str))
            .map(address_of)
            .filter(|a| a.contains('@'))
            .collect();
        for address in &addresses {
            opt_outs::opt_out(&self.db, &ws, Channel::Email, address, source).await?;
        }
        Ok(Outcome::processed_because(Some(ws), "opted_out"))
    }
}

/// The address of `Name <user@example.com>` (or of a bare address), lowercased.
fn address_of(raw: &str) -> String {
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    inner.trim().to_ascii_lowercase()
}

/// STOP / START in `body` updates `contact`'s opt-out of `channel` (whatever state the number or
/// connection is in); the outcome's reason when it did.
async fn apply_keyword(
    txn: &DatabaseTransaction,
    ws: &WorkspaceId,
    channel: Channel,
    contact: &str,
    body: &str,
) -> Result<Option<&'static str>> {
    Ok(match Keyword::of(body) {
        Some(Keyword::OptOut) => {
            opt_outs::opt_out(txn, ws, channel, contact, OptOutSource::Keyword).await?;
            Some("opted_out")
        }
        Some(Keyword::OptIn) => {
            opt_outs::opt_in(txn, ws, channel, contact).await?;
            Some("opted_in")
        }
        None => None,
    })
}

/// The words of a Meta message: its text, a button's or list reply's title, or a media caption
/// (media itself stays at Meta, fetched with the connection's token when needed).
fn meta_text(message: &Value) -> String {
    let kind = message["type"].as_str().unwrap_or_default();
    let found = [
        &message["text"]["body"],
        &message["button"]["text"],
        &message["interactive"]["button_reply"]["title"],
        &message["interactive"]["list_reply"]["title"],
        &message[kind]["caption"],
    ]
    .into_iter()
    .find_map(Value::as_str);
    found.unwrap_or_default().to_owned()
}

/// A Twilio message's parameters and the channel and number it was sent to, or the outcome of one
/// that cannot be routed.
fn addressed(event: &StoredEvent) -> std::result::Result<(TwilioParams, Channel, E164), Outcome> {
    let params =
        TwilioParams::from_stored(&event.payload).map_err(|_| Outcome::dropped(None, "malformed_payload"))?;
    let (channel, to) = channel_address(params.get("To").unwrap_or_default());
    let to = E164::parse(to).map_err(|_| Outcome::unroutable("invalid_to"))?;
    Ok((params, channel, to))
}

/// A Twilio message and the number it was sent to.
struct RoutedMessage {
    params: TwilioParams,
    /// Twilio's `MessageSid`: the key it is counted and appended by.
    sid: String,
    channel: Channel,
    to: E164,
    number: Number,
    meter: Meter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_addresses_are_taken_from_display_forms() {
        assert_eq!(address_of("Zoë Müller <Desk@Mail.Example.com>"), "desk@mail.example.com");
        assert_eq!(address_of(" nobody@example.org "), "nobody@example.org");
    }
}
