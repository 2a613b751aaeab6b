//! Reading the providers' payloads: from an authenticated request into [`NewEvent`]s (anything
//! that is not the provider's format is [`Malformed`] and stored nowhere), and from a stored
//! event back into the fields processing needs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use switchboard_channels::Channel;
use switchboard_core::E164;
use switchboard_webhook_auth::sns::{SnsMessage, SnsMessageType};

use crate::model::{EventKind, NewEvent, Provider};

/// The payload is not a message of the provider's format: answer 400, store nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed payload: {0}")]
pub struct Malformed(pub &'static str);

impl Malformed {
    pub fn code(&self) -> &'static str {
        "malformed_payload"
    }
}

/// A provider id: 1–255 printable ASCII characters without spaces.
fn id_shaped(s: &str) -> bool {
    !s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Twilio's form parameters, parsed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwilioParams(BTreeMap<String, String>);

impl TwilioParams {
    /// From the decoded form (a repeated name keeps its last value; Twilio repeats none of the
    /// parameters processing reads).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        Self(pairs.iter().cloned().collect())
    }

    /// From a JSON object of strings (Twilio's `application/json` webhooks).
    pub fn from_json(body: &[u8]) -> Result<Self, Malformed> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return Err(Malformed("Twilio JSON body"));
        };
        Ok(Self(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
        ))
    }

    /// From a stored payload.
    pub fn from_stored(payload: &str) -> Result<Self, Malformed> {
        serde_json::from_str(payload).map(Self).map_err(|_| Malformed("stored Twilio parameters"))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn required_id(&self, names: &[&str], what: &'static str) -> Result<String, Malformed> {
        names
            .iter()
            .find_map(|n| self.get(n))
            .filter(|v| id_shaped(v))
            .map(str::to_owned)
            .ok_or(Malformed(what))
    }

    fn require(&self, name: &str, what: &'static str) -> Result<&str, Malformed> {
        self.get(name).ok_or(Malformed(what))
    }

    fn json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// The message's id (`MessageSid`, or the legacy `SmsSid`).
    pub fn message_sid(&self) -> Option<&str> {
        self.get("MessageSid").or_else(|| self.get("SmsMessageSid")).or_else(|| self.get("SmsSid"))
    }

    /// `NumMedia` media URLs in order.
    pub fn media_urls(&self) -> Vec<String> {
        let n: usize = self.get("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
        (0..n.min(10)).filter_map(|i| self.get(&format!("MediaUrl{i}")).map(str::to_owned)).collect()
    }

    /// An inbound SMS or WhatsApp message (`POST /twilio/messages`).
    pub fn message_event(&self, at: DateTime<Utc>) -> Result<NewEvent, Malformed> {
        let sid = self.required_id(&["MessageSid", "SmsMessageSid", "SmsSid"], "MessageSid")?;
        self.require("From", "From")?;
        self.require("To", "To")?;
        Ok(NewEvent::new(Provider::Twilio, EventKind::Message, sid, self.json(), at))
    }

    /// An outbound message's status (`POST /twilio/messages/status`).
    pub fn message_status_event(&self, at: DateTime<Utc>) -> Result<NewEvent, Malformed> {
        let sid = self.required_id(&["MessageSid", "SmsSid"], "MessageSid")?;
        let status = self.required_id(&["MessageStatus", "SmsStatus"], "MessageStatus")?;
        Ok(NewEvent::new(
            Provider::Twilio,
            EventKind::MessageStatus,
            format!("{sid}:{status}"),
            self.json(),
            at,
        ))
    }

    /// A call's status (`POST /twilio/voice/status`).
    pub fn call_status_event(&self, at: DateTime<Utc>) -> Result<NewEvent, Malformed> {
        let sid = self.required_id(&["CallSid"], "CallSid")?;
        let status = self.required_id(&["CallStatus"], "CallStatus")?;
        Ok(NewEvent::new(Provider::Twilio, EventKind::CallStatus, format!("{sid}:{status}"), self.json(), at))
    }
}

/// A Twilio address: `+4930…` for SMS and voice, `whatsapp:+4930…` for WhatsApp.
pub fn channel_address(raw: &str) -> (Channel, &str) {
    match raw.strip_prefix("whatsapp:") {
        Some(rest) => (Channel::Whatsapp, rest.trim()),
        None => (Channel::Sms, raw.trim()),
    }
}

/// A contact as stored: E.164 when it is a phone number, else as given (short codes,
/// alphanumeric senders).
pub fn contact(raw: &str) -> String {
    E164::parse(raw).map(|n| n.to_string()).unwrap_or_else(|_| raw.trim().to_owned())
}

/// A Vapi server message: the `message` object of `{"message": {...}}` and its `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct VapiMessage {
    pub kind: String,
    pub message: Value,
}

impl VapiMessage {
    pub fn parse(body: &[u8]) -> Result<Self, Malformed> {
        let Ok(Value::Object(mut root)) = serde_json::from_slice::<Value>(body) else {
            return Err(Malformed("Vapi server message"));
        };
        let Some(message @ Value::Object(_)) = root.remove("message") else {
            return Err(Malformed("Vapi `message`"));
        };
        let kind = message.get("type").and_then(Value::as_str).ok_or(Malformed("Vapi message `type`"))?;
        Ok(Self { kind: kind.to_owned(), message })
    }

    pub fn from_stored(payload: &str) -> Result<Self, Malformed> {
        let message: Value = serde_json::from_str(payload).map_err(|_| Malformed("stored Vapi message"))?;
        let kind = message.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(Self { kind, message })
    }

    fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut v = &self.message;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str().filter(|s| !s.is_empty())
    }

    /// Vapi's id of the call.
    pub fn call_id(&self) -> Option<&str> {
        self.str_at(&["call", "id"]).filter(|s| id_shaped(s))
    }

    /// The key the call is metered under: Twilio's `CallSid` (`call.phoneCallProviderId`) when
    /// Vapi gives one — so Twilio's call status and Vapi's report settle the same
    /// `call:<CallSid>` — else Vapi's call id.
    pub fn call_key(&self) -> Option<&str> {
        self.str_at(&["call", "phoneCallProviderId"]).filter(|s| id_shaped(s)).or_else(|| self.call_id())
    }

    /// The number the call came in on, as E.164.
    pub fn called_number(&self) -> Option<E164> {
        [&["phoneNumber", "number"][..], &["call", "phoneNumber", "number"]]
            .iter()
            .find_map(|p| self.str_at(p))
            .and_then(|n| E164::parse(n).ok())
    }

    /// Vapi's id of that number.
    pub fn vapi_phone_number_id(&self) -> Option<&str> {
        self.str_at(&["phoneNumber", "id"]).or_else(|| self.str_at(&["call", "phoneNumberId"]))
    }

    /// The caller, as E.164 where possible.
    pub fn customer(&self) -> Option<String> {
        self.str_at(&["customer", "number"])
            .or_else(|| self.str_at(&["call", "customer", "number"]))
            .map(contact)
    }

    fn instant(&self, field: &str) -> Option<DateTime<Utc>> {
        self.str_at(&[field])
            .or_else(|| self.str_at(&["call", field]))
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.instant("endedAt")
    }

    /// How long the call ran: `endedAt − startedAt` (the report has no duration field), else a
    /// `durationSeconds` if one is given; zero for a call that never started.
    pub fn duration(&self) -> std::time::Duration {
        if let (Some(start), Some(end)) = (self.instant("startedAt"), self.instant("endedAt")) {
            return (end - start).to_std().unwrap_or_default();
        }
        let seconds = self
            .message
            .get("durationSeconds")
            .or_else(|| self.message.get("call").and_then(|c| c.get("durationSeconds")))
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(0.0);
        std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default()
    }

    /// The message's own timestamp, as Vapi sends it (epoch milliseconds, or a string).
    fn timestamp(&self) -> Option<String> {
        match self.message.get("timestamp")? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if id_shaped(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// What a `transferCall` tool asked for: the person or department named in the arguments of
    /// the tool call that triggered the request (Vapi sends them in `toolCall`, `functionCall`,
    /// `toolCallList`, or only in the artifact's last tool-call message).
    pub fn transfer_query(&self) -> Option<String> {
        let m = &self.message;
        let candidates = [
            m.get("toolCall").and_then(|t| t.get("function")).and_then(|f| f.get("arguments")),
            m.get("toolCall").and_then(|t| t.get("arguments")),
            m.get("functionCall").and_then(|f| f.get("parameters")),
            m.get("toolCallList").and_then(Value::as_array).and_then(|l| l.last()).and_then(|t| {
                t.get("function").and_then(|f| f.get("arguments")).or_else(|| t.get("arguments"))
            }),
            last_tool_call_arguments(m.get("artifact").and_then(|a| a.get("messages"))),
        ];
        candidates.into_iter().flatten().find_map(query_of)
    }

    /// The stored form of the message.
    fn json(&self) -> String {
        self.message.to_string()
    }

    /// The event of a message Vapi waits for an answer to, or that settles a call; `None` for
    /// message types nothing here acts on (acknowledged and not stored).
    pub fn event(&self, at: DateTime<Utc>) -> Result<Option<NewEvent>, Malformed> {
        let kind = match self.kind.as_str() {
            "assistant-request" => EventKind::AssistantRequest,
            "end-of-call-report" => EventKind::EndOfCallReport,
            "transfer-destination-request" => EventKind::TransferDestinationRequest,
            _ => return Ok(None),
        };
        let call = self.call_id().ok_or(Malformed("Vapi `call.id`"))?;
        let key = match kind {
            EventKind::TransferDestinationRequest => {
                format!("{call}:{}", self.timestamp().unwrap_or_else(|| at.timestamp_micros().to_string()))
            }
            _ => call.to_owned(),
        };
        Ok(Some(NewEvent::new(Provider::Vapi, kind, key, self.json(), at)))
    }
}

fn last_tool_call_arguments(messages: Option<&Value>) -> Option<&Value> {
    messages?.as_array()?.iter().rev().find_map(|msg| {
        let calls = msg.get("toolCalls").or_else(|| msg.get("tool_calls"))?.as_array()?;
        calls.iter().rev().find_map(|c| c.get("function").and_then(|f| f.get("arguments")))
    })
}

/// The name asked for in tool-call arguments (an object, or a JSON string of one).
fn query_of(arguments: &Value) -> Option<String> {
    let parsed;
    let object = match arguments {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).ok()?;
            parsed.as_object()?
        }
        Value::Object(o) => o,
        _ => return None,
    };
    const KEYS: [&str; 8] =
        ["name", "person", "target", "destination", "department", "query", "who", "contact"];
    let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(found) = KEYS.iter().find_map(|k| object.get(*k).and_then(text)) {
        return Some(found);
    }
    let strings: Vec<String> = object.values().filter_map(text).collect();
    match strings.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// The events of one Meta webhook delivery: each inbound message and each status is an event
/// of its own (one POST may batch several). Deliveries for other objects or fields carry none.
pub fn meta_events(body: &[u8], at: DateTime<Utc>) -> Result<Vec<NewEvent>, Malformed> {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
        return Err(Malformed("Meta webhook body"));
    };
    if root.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Ok(Vec::new());
    }
    let entries = root.get("entry").and_then(Value::as_array).ok_or(Malformed("Meta `entry`"))?;
    let mut events = Vec::new();
    for entry in entries {
        let changes = entry.get("changes").and_then(Value::as_array).ok_or(Malformed("Meta `changes`"))?;
        for change in changes {
            if change.get("field").and_then(Value::as_str) != Some("messages") {
                continue;
            }
            let value = change.get("value").and_then(Value::as_object).ok_or(Malformed("Meta `value`"))?;
            let metadata = value.get("metadata").cloned().unwrap_or(Value::Null);
            let contacts = value.get("contacts").cloned().unwrap_or(Value::Null);
            for message in value.get("messages").and_then(Value::as_array).into_iter().flatten() {
                let id = message.get("id").and_then(Value::as_str).filter(|s| id_shaped(s));
                let id = id.ok_or(Malformed("Meta message `id`"))?;
                let payload = json!({"metadata": metadata, "contacts": contacts, "message": message});
                events.push(NewEvent::new(
                    Provider::Meta,
                    EventKind::WhatsappMessage,
                    id,
                    payload.to_string(),
                    at,
                ));
            }
            for status in value.get("statuses").and_then(Value::as_array).into_iter().flatten() {
                let id = status.get("id").and_then(Value::as_str).filter(|s| id_shaped(s));
                let state = status.get("status").and_then(Value::as_str).filter(|s| id_shaped(s));
                let (Some(id), Some(state)) = (id, state) else {
                    return Err(Malformed("Meta status `id` or `status`"));
                };
                let payload = json!({"metadata": metadata, "status": status});
                events.push(NewEvent::new(
                    Provider::Meta,
                    EventKind::WhatsappStatus,
                    format!("{id}:{state}"),
                    payload.to_string(),
                    at,
                ));
            }
        }
    }
    Ok(events)
}

/// The event of a verified SNS message, stored with the fields processing reads.
pub fn sns_event(message: &SnsMessage, at: DateTime<Utc>) -> NewEvent {
    let kind = match message.kind {
        SnsMessageType::Notification => EventKind::SnsNotification,
        SnsMessageType::SubscriptionConfirmation => EventKind::SnsSubscriptionConfirmation,
        SnsMessageType::UnsubscribeConfirmation => EventKind::SnsUnsubscribeConfirmation,
    };
    let mut payload = Map::new();
    payload.insert("MessageId".into(), json!(message.message_id));
    payload.insert("TopicArn".into(), json!(message.topic_arn));
    payload.insert("Subject".into(), json!(message.subject));
    payload.insert("Message".into(), json!(message.message));
    payload.insert("Timestamp".into(), json!(message.timestamp.to_rfc3339()));
    payload.insert("SubscribeURL".into(), json!(message.subscribe_url.as_ref().map(|u| u.to_string())));
    NewEvent::new(Provider::Sns, kind, message.message_id.clone(), Value::Object(payload).to_string(), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> TwilioParams {
        TwilioParams::from_pairs(
            &pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn twilio_events_are_keyed_by_the_providers_ids() {
        let at = Utc::now();
        let p = params(&[("MessageSid", "SM1"), ("From", "+491701234567"), ("To", "+4930123456")]);
        assert_eq!(p.message_event(at).unwrap().external_id, "SM1");
        let p = params(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
        assert_eq!(p.message_status_event(at).unwrap().external_id, "SM1:delivered");
        let p = params(&[("CallSid", "CA1"), ("CallStatus", "completed")]);
        assert_eq!(p.call_status_event(at).unwrap().external_id, "CA1:completed");
        assert_eq!(params(&[("From", "+1"), ("To", "+2")]).message_event(at), Err(Malformed("MessageSid")));
        assert_eq!(params(&[("MessageSid", "SM1"), ("To", "+2")]).message_event(at), Err(Malformed("From")));
        assert_eq!(
            params(&[("MessageSid", "SM 1"), ("From", "+1"), ("To", "+2")]).message_event(at),
            Err(Malformed("MessageSid"))
        );
    }

    #[test]
    fn whatsapp_addresses_name_their_channel() {
        assert_eq!(channel_address("whatsapp:+4930123456"), (Channel::Whatsapp, "+4930123456"));
        assert_eq!(channel_address("+4930123456"), (Channel::Sms, "+4930123456"));
        assert_eq!(contact("+49 30 123456"), "+4930123456");
        assert_eq!(contact("VERIFY"), "VERIFY");
    }

    #[test]
    fn vapi_call_key_prefers_the_twilio_call_sid() {
        let body = br#"{"message": {"type": "end-of-call-report", "call": {"id": "c-1", "phoneCallProviderId": "CA9"},
            "startedAt": "2026-11-02T10:00:00.000Z", "endedAt": "2026-11-02T10:01:30.500Z"}}"#;
        let m = VapiMessage::parse(body).unwrap();
        assert_eq!(m.call_key(), Some("CA9"));
        assert_eq!(m.duration(), std::time::Duration::from_millis(90_500));
        let m =
            VapiMessage::parse(br#"{"message": {"type": "status-update", "call": {"id": "c-1"}}}"#).unwrap();
        assert_eq!(m.call_key(), Some("c-1"));
        assert_eq!(m.duration(), std::time::Duration::ZERO);
        assert!(m.event(Utc::now()).unwrap().is_none(), "status updates are not stored");
        assert!(VapiMessage::parse(br#"{"type": "assistant-request"}"#).is_err());
        assert!(
            VapiMessage::parse(br#"{"message": {"type": "assistant-request"}}"#)
                .unwrap()
                .event(Utc::now())
                .is_err()
        );
    }

    #[test]
    fn transfer_queries_come_from_the_tool_call_arguments() {
        let m = |v: Value| VapiMessage { kind: "transfer-destination-request".into(), message: v };
        assert_eq!(
            m(json!({"toolCall": {"function": {"arguments": "{\"name\": \"Herr Müller\"}"}}}))
                .transfer_query(),
            Some("Herr Müller".into())
        );
        assert_eq!(
            m(json!({"functionCall": {"parameters": {"department": " Billing "}}})).transfer_query(),
            Some("Billing".into())
        );
        assert_eq!(
            m(json!({"artifact": {"messages": [
                {"role": "tool_calls", "toolCalls": [{"function": {"name": "transfer", "arguments": {"x": "Anna"}}}]},
                {"role": "bot", "message": "One moment"}
            ]}}))
            .transfer_query(),
            Some("Anna".into())
        );
        assert_eq!(m(json!({"artifact": {"messages": []}})).transfer_query(), None);
    }

    #[test]
    fn meta_deliveries_split_into_one_event_per_message_and_status() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {"metadata": {"phone_number_id": "106"},
                "messages": [{"id": "wamid.A", "from": "4917", "type": "text"}, {"id": "wamid.B", "from": "4917"}],
                "statuses": [{"id": "wamid.C", "status": "read"}]}},
            {"field": "account_update", "value": {}}
        ]}]});
        let events = meta_events(body.to_string().as_bytes(), Utc::now()).unwrap();
        let keys: Vec<_> = events.iter().map(|e| (e.kind, e.external_id.as_str())).collect();
        assert_eq!(
            keys,
            [
                (EventKind::WhatsappMessage, "wamid.A"),
                (EventKind::WhatsappMessage, "wamid.B"),
                (EventKind::WhatsappStatus, "wamid.C:read")
            ]
        );
        assert!(meta_events(br#"{"object": "page", "entry": []}"#, Utc::now()).unwrap().is_empty());
        assert!(meta_events(br#"{"object": "whatsapp_business_account"}"#, Utc::now()).is_err());
        assert!(meta_events(b"[]", Utc::now()).is_err());
    }
}
