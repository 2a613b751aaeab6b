//! The sandbox: Twilio, Vapi and WhatsApp senders simulated in process, like a payment
//! provider's test mode. One [`Sandbox`] implements all three ports and shares its state between
//! them (clones share it too), so a Vapi import can see whether the number was bought.
//!
//! The inventory and the failures on demand come from `fixtures/sandbox.toml` (embedded; see the
//! file for its format and which prefixes fail how). Behaviour mirrors the live clients' error
//! cases:
//! - search: numbers of the country and type, filtered by area code (start of the national
//!   digits), `contains` (substring of the E.164 digits) and capabilities, minus the numbers bought
//!   in this process; an empty list when nothing matches. Ranges marked `on_request` (the failure
//!   ranges) appear only when the search names an area code that selects them.
//! - purchase: `NotAvailable` for a number not for sale or already bought (Twilio 21422).
//! - release / configure webhooks of an unknown sid, update / remove of an unknown Vapi id: `NotFound`.
//! - Vapi import of a number not bought here: `Rejected` (Vapi cannot reach it in the Twilio account).
//! - WhatsApp: mobile numbers register as `Registered`, all others as `Pending`.
//! - Messages (Twilio SMS and WhatsApp, Meta's Cloud API) and WhatsApp sender checks, with their
//!   own failures on demand (`[messaging]`): see [`messaging`]. Accepted messages are kept, in
//!   order, for tests to look at ([`Sandbox::sent_messages`]).
//!
//! Ids are deterministic: a hash of the number and how often it was bought (imported, …) before,
//! so reruns of the same scenario produce the same `PN…`, Vapi and `XE…` ids.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde::Deserialize;
use switchboard_core::{Country, E164, NumberType, ProviderError};
use switchboard_numbers::{
    AvailableNumber, Capabilities, NumberInventory, PurchasedNumber, SearchQuery, SenderRegistration,
    SenderStatus, VoiceGateway, WebhookTargets, WhatsappSenders,
};

use crate::{non_empty, truncate};

pub mod messaging;

pub use messaging::SandboxMessage;
use messaging::{MessagingFile, MessagingRules};

/// The default inventory, embedded so the working directory does not matter.
pub const DEFAULT_TOML: &str = include_str!("../../../fixtures/sandbox.toml");

const TWILIO: &str = "twilio";
const VAPI: &str = "vapi";
/// Twilio's `FriendlyName` limit.
const FRIENDLY_NAME_MAX: usize = 64;
/// Bound on one range, to keep a typo from generating millions of numbers.
const RANGE_MAX: u32 = 1000;

/// The sandbox TOML is not usable; the message says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sandbox inventory: {0}")]
pub struct SandboxConfigError(String);

/// The in-process provider simulation. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Sandbox {
    catalog: Arc<Catalog>,
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("numbers_for_sale", &self.catalog.offers.len())
            .finish_non_exhaustive()
    }
}

/// What is for sale and what fails; fixed once loaded.
#[derive(Debug)]
struct Catalog {
    offers: Vec<Offer>,
    failures: Failures,
    messaging: MessagingRules,
}

#[derive(Debug, Clone)]
struct Offer {
    number: AvailableNumber,
    /// Digits after the calling code, the thing an area code is matched against.
    national: String,
    on_request: bool,
}

#[derive(Debug, Default)]
struct Failures {
    vapi_import_rejected: Vec<String>,
    whatsapp_rejected: Vec<String>,
    purchase_unavailable: Vec<String>,
}

fn matches_any(prefixes: &[String], number: &E164) -> Option<String> {
    prefixes.iter().find(|p| number.as_str().starts_with(p.as_str())).cloned()
}

/// What happened in this process.
#[derive(Debug, Default)]
struct State {
    /// Bought numbers by sid.
    owned: BTreeMap<String, Owned>,
    released: Vec<String>,
    /// Vapi imports by id.
    imports: BTreeMap<String, Import>,
    removed_imports: Vec<String>,
    senders: BTreeMap<E164, SenderRegistration>,
    /// How many ids were handed out per (kind, number), for deterministic fresh ids.
    issued: BTreeMap<(&'static str, E164), u32>,
    /// Messages accepted, oldest first.
    messages: Vec<SandboxMessage>,
}

#[derive(Debug, Clone)]
struct Owned {
    number: E164,
    hooks: WebhookTargets,
}

#[derive(Debug, Clone)]
struct Import {
    number: E164,
    server_url: String,
}

impl State {
    fn is_held(&self, number: &E164) -> bool {
        self.owned.values().any(|o| &o.number == number)
    }

    /// The next deterministic id body (32 hex digits) for `kind` and `number`.
    fn next_hex(&mut self, kind: &'static str, number: &E164) -> String {
        let n = self.issued.entry((kind, number.clone())).or_insert(0);
        *n += 1;
        hex128(&format!("{kind}:{number}:{n}"))
    }
}

impl Sandbox {
    /// The embedded default inventory (`fixtures/sandbox.toml`).
    pub fn embedded() -> Result<Self, SandboxConfigError> {
        Self::from_toml(DEFAULT_TOML)
    }

    /// An inventory from TOML in the format of `fixtures/sandbox.toml`.
    pub fn from_toml(toml_text: &str) -> Result<Self, SandboxConfigError> {
        let file: SandboxFile =
            toml::from_str(toml_text).map_err(|e| SandboxConfigError(e.to_string().trim().to_owned()))?;
        Ok(Self { catalog: Arc::new(file.into_catalog()?), state: Arc::default() })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave this state half-updated in a way that matters to a sandbox.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn offer(&self, number: &E164) -> Option<&Offer> {
        self.catalog.offers.iter().find(|o| &o.number.phone_number == number)
    }

    // ---- what tests and demos can look at ----

    /// Whether `number` is bought and not released.
    pub fn is_held(&self, number: &E164) -> bool {
        self.state().is_held(number)
    }

    /// The sid under which `number` is held.
    pub fn sid_of(&self, number: &E164) -> Option<String> {
        self.state().owned.iter().find(|(_, o)| &o.number == number).map(|(sid, _)| sid.clone())
    }

    /// Sids released so far, in order.
    pub fn released_sids(&self) -> Vec<String> {
        self.state().released.clone()
    }

    /// Where a held number's SMS and status callbacks point.
    pub fn webhooks_of(&self, sid: &str) -> Option<WebhookTargets> {
        self.state().owned.get(sid).map(|o| o.hooks.clone())
    }

    /// Whether `number` is currently imported into (simulated) Vapi.
    pub fn is_imported(&self, number: &E164) -> bool {
        self.state().imports.values().any(|i| &i.number == number)
    }

    /// The server URL of a Vapi import.
    pub fn server_url_of(&self, vapi_id: &str) -> Option<String> {
        self.state().imports.get(vapi_id).map(|i| i.server_url.clone())
    }

    /// Vapi ids removed so far, in order.
    pub fn removed_vapi_ids(&self) -> Vec<String> {
        self.state().removed_imports.clone()
    }

    /// The last WhatsApp registration of `number`.
    pub fn sender_of(&self, number: &E164) -> Option<SenderRegistration> {
        self.state().senders.get(number).cloned()
    }

    /// Every message accepted so far (Twilio and Meta), oldest first.
    pub fn sent_messages(&self) -> Vec<SandboxMessage> {
        self.state().messages.clone()
    }
}

#[async_trait]
impl NumberInventory for Sandbox {
    async fn search(&self, q: &SearchQuery) -> Result<Vec<AvailableNumber>, ProviderError> {
        let area = non_empty(q.area_code.as_deref());
        let contains = non_empty(q.contains.as_deref());
        let wants = |want: Option<bool>, has: bool| want.is_none_or(|w| w == has);
        let state = self.state();
        Ok(self
            .catalog
            .offers
            .iter()
            .filter(|o| o.number.country == q.country && o.number.number_type == q.number_type)
            .filter(|o| match area {
                Some(area) => o.national.starts_with(area),
                None => !o.on_request,
            })
            .filter(|o| contains.is_none_or(|c| o.number.phone_number.digits().contains(c)))
            .filter(|o| {
                let caps = o.number.capabilities;
                wants(q.voice, caps.voice)
                    && wants(q.sms, caps.sms)
                    && wants(q.mms, caps.mms)
                    && wants(q.fax, caps.fax)
            })
            .filter(|o| !state.is_held(&o.number.phone_number))
            .take(usize::try_from(q.limit).unwrap_or(usize::MAX))
            .map(|o| o.number.clone())
            .collect())
    }

    async fn purchase(
        &self,
        number: &E164,
        friendly_name: &str,
        hooks: &WebhookTargets,
    ) -> Result<PurchasedNumber, ProviderError> {
        if let Some(prefix) = matches_any(&self.catalog.failures.purchase_unavailable, number) {
            return Err(ProviderError::Unavailable {
                provider: TWILIO,
                message: format!("sandbox: simulated outage for numbers starting {prefix}"),
            });
        }
        let not_available = || ProviderError::NotAvailable {
            provider: TWILIO,
            message: format!("PhoneNumber {number} is not available (Twilio error 21422)"),
        };
        let offer = self.offer(number).ok_or_else(not_available)?;
        let mut state = self.state();
        if state.is_held(number) {
            return Err(not_available());
        }
        let sid = format!("PN{}", state.next_hex("PN", number));
        state.owned.insert(sid.clone(), Owned { number: number.clone(), hooks: hooks.clone() });
        let name = truncate(friendly_name.trim(), FRIENDLY_NAME_MAX);
        Ok(PurchasedNumber {
            sid,
            phone_number: number.clone(),
            // Like Twilio: without a FriendlyName the formatted number is used.
            friendly_name: if name.is_empty() { offer.number.friendly_name.clone() } else { name.to_owned() },
            capabilities: offer.number.capabilities,
        })
    }

    async fn configure_webhooks(&self, sid: &str, hooks: &WebhookTargets) -> Result<(), ProviderError> {
        let mut state = self.state();
        let owned = state.owned.get_mut(sid).ok_or_else(|| twilio_not_found(sid))?;
        owned.hooks = hooks.clone();
        Ok(())
    }

    async fn release(&self, sid: &str) -> Result<(), ProviderError> {
        let mut state = self.state();
        state.owned.remove(sid).ok_or_else(|| twilio_not_found(sid))?;
        state.released.push(sid.to_owned());
        Ok(())
    }
}

fn twilio_not_found(sid: &str) -> ProviderError {
    ProviderError::NotFound {
        provider: TWILIO,
        message: format!("IncomingPhoneNumber {sid} was not found (Twilio error 20404)"),
    }
}

fn vapi_not_found(id: &str) -> ProviderError {
    ProviderError::NotFound { provider: VAPI, message: format!("phone number {id} not found") }
}

#[async_trait]
impl VoiceGateway for Sandbox {
    async fn import_number(
        &self,
        number: &E164,
        _name: &str,
        server_url: &str,
    ) -> Result<String, ProviderError> {
        let rejected =
            |message: String| ProviderError::Rejected { provider: VAPI, code: "400".into(), message };
        if let Some(prefix) = matches_any(&self.catalog.failures.vapi_import_rejected, number) {
            return Err(rejected(format!("sandbox: simulated import refusal for numbers starting {prefix}")));
        }
        let mut state = self.state();
        if !state.is_held(number) {
            return Err(rejected(format!("number {number} is not in the Twilio account")));
        }
        if state.imports.values().any(|i| &i.number == number) {
            return Err(rejected(format!("number {number} is already imported")));
        }
        let id = uuid_shaped(&state.next_hex("vapi", number));
        state
            .imports
            .insert(id.clone(), Import { number: number.clone(), server_url: server_url.to_owned() });
        Ok(id)
    }

    async fn update_server_url(&self, vapi_id: &str, server_url: &str) -> Result<(), ProviderError> {
        let mut state = self.state();
        let import = state.imports.get_mut(vapi_id).ok_or_else(|| vapi_not_found(vapi_id))?;
        import.server_url = server_url.to_owned();
        Ok(())
    }

    async fn remove_number(&self, vapi_id: &str) -> Result<(), ProviderError> {
        let mut state = self.state();
        state.imports.remove(vapi_id).ok_or_else(|| vapi_not_found(vapi_id))?;
        state.removed_imports.push(vapi_id.to_owned());
        Ok(())
    }
}

#[async_trait]
impl WhatsappSenders for Sandbox {
    async fn register(
        &self,
        number: &E164,
        _display_name: &str,
        _callback_url: &str,
    ) -> Result<SenderRegistration, ProviderError> {
        if let Some(prefix) = matches_any(&self.catalog.failures.whatsapp_rejected, number) {
            return Err(ProviderError::Rejected {
                provider: TWILIO,
                code: "400".into(),
                message: format!("sandbox: simulated WhatsApp sender refusal for numbers starting {prefix}"),
            });
        }
        // Mobile numbers verify by SMS at once; others wait for a voice verification / review.
        let mobile = self.offer(number).is_some_and(|o| o.number.number_type == NumberType::Mobile);
        let status = if mobile { SenderStatus::Registered } else { SenderStatus::Pending };
        let mut state = self.state();
        let registration = SenderRegistration { sid: format!("XE{}", state.next_hex("XE", number)), status };
        state.senders.insert(number.clone(), registration.clone());
        Ok(registration)
    }
}

/// 128 bits as 32 lowercase hex digits: two FNV-1a 64 passes with different offsets. Stable
/// across runs and platforms (unlike `std`'s randomly seeded hasher).
fn hex128(key: &str) -> String {
    fn fnv1a(offset: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(offset, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
    }
    let hi = fnv1a(0xcbf2_9ce4_8422_2325, key.as_bytes());
    let lo = fnv1a(0x6c62_272e_07bb_0142, key.as_bytes());
    format!("{hi:016x}{lo:016x}")
}

/// `8-4-4-4-12` like Vapi's UUIDs.
fn uuid_shaped(hex: &str) -> String {
    let part = |from: usize, to: usize| hex.get(from..to).unwrap_or_default();
    format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32))
}

// ---- the TOML file -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxFile {
    #[serde(default)]
    failures: FailuresFile,
    #[serde(default)]
    messaging: MessagingFile,
    countries: BTreeMap<String, CountryFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FailuresFile {
    #[serde(default)]
    vapi_import_rejected: Vec<String>,
    #[serde(default)]
    whatsapp_rejected: Vec<String>,
    #[serde(default)]
    purchase_unavailable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryFile {
    calling_code: String,
    #[serde(default)]
    trunk_prefix: String,
    ranges: Vec<RangeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    #[serde(rename = "type")]
    number_type: NumberType,
    prefix: String,
    first: String,
    count: u32,
    locality: Option<String>,
    capabilities: Vec<Capability>,
    #[serde(default)]
    on_request: bool,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Capability {
    Voice,
    Sms,
    Mms,
    Fax,
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl SandboxFile {
    fn into_catalog(self) -> Result<Catalog, SandboxConfigError> {
        let err = |m: String| SandboxConfigError(m);
        let mut offers = Vec::new();
        let mut seen = BTreeSet::new();
        for (code, country_file) in self.countries {
            let country: Country = code.parse().map_err(err)?;
            let cc = &country_file.calling_code;
            if !is_digits(cc) {
                return Err(err(format!("{country}: calling_code `{cc}` must be digits")));
            }
            for (i, range) in country_file.ranges.iter().enumerate() {
                let at = format!("{country} range {}", i + 1);
                if !is_digits(&range.prefix) || !is_digits(&range.first) || range.first.len() > 12 {
                    return Err(err(format!("{at}: prefix and first must be digits (first at most 12)")));
                }
                if range.count == 0 || range.count > RANGE_MAX {
                    return Err(err(format!("{at}: count must be 1..={RANGE_MAX}")));
                }
                let width = range.first.len();
                let first: u64 = range.first.parse().map_err(|_| err(format!("{at}: bad first")))?;
                let mut capabilities = Capabilities::default();
                for cap in &range.capabilities {
                    match cap {
                        Capability::Voice => capabilities.voice = true,
                        Capability::Sms => capabilities.sms = true,
                        Capability::Mms => capabilities.mms = true,
                        Capability::Fax => capabilities.fax = true,
                    }
                }
                for n in 0..u64::from(range.count) {
                    let subscriber = format!("{:0width$}", first + n);
                    if subscriber.len() != width {
                        return Err(err(format!("{at}: first + count overflows {width} digits")));
                    }
                    let national = format!("{}{subscriber}", range.prefix);
                    let phone_number = E164::parse(&format!("+{cc}{national}"))
                        .map_err(|e| err(format!("{at}: +{cc}{national} {e}")))?;
                    if !seen.insert(phone_number.clone()) {
                        return Err(err(format!("{at}: {phone_number} is listed twice")));
                    }
                    offers.push(Offer {
                        number: AvailableNumber {
                            friendly_name: friendly(
                                cc,
                                &country_file.trunk_prefix,
                                &range.prefix,
                                &subscriber,
                            ),
                            locality: range.locality.clone(),
                            country,
                            number_type: range.number_type,
                            capabilities,
                            phone_number,
                        },
                        national,
                        on_request: range.on_request,
                    });
                }
            }
        }
        let failures = self.failures;
        for prefix in failures
            .vapi_import_rejected
            .iter()
            .chain(&failures.whatsapp_rejected)
            .chain(&failures.purchase_unavailable)
        {
            if !prefix.strip_prefix('+').is_some_and(is_digits) {
                return Err(err(format!("failure prefix `{prefix}` must be + and digits")));
            }
        }
        let messaging = self.messaging.into_rules().map_err(err)?;
        Ok(Catalog {
            offers,
            messaging,
            failures: Failures {
                vapi_import_rejected: failures.vapi_import_rejected,
                whatsapp_rejected: failures.whatsapp_rejected,
                purchase_unavailable: failures.purchase_unavailable,
            },
        })
    }
}

/// The national format: `(415) 555-0100` in the NANP, else `030 1234560` (trunk + prefix, space,
/// subscriber). Good enough for a sandbox; real grouping rules differ per country.
fn friendly(cc: &str, trunk: &str, prefix: &str, subscriber: &str) -> String {
    if cc == "1" && prefix.len() == 3 && subscriber.len() == 7 {
        format!("({prefix}) {}-{}", &subscriber[..3], &subscriber[3..])
    } else {
        format!("{trunk}{prefix} {subscriber}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_inventory_loads() {
        let sandbox = Sandbox::embedded().unwrap();
        assert!(sandbox.catalog.offers.len() > 50);
    }

    #[test]
    fn friendly_names_are_national() {
        assert_eq!(friendly("1", "", "415", "5550100"), "(415) 555-0100");
        assert_eq!(friendly("49", "0", "30", "1234560"), "030 1234560");
    }

    #[test]
    fn ids_are_stable_and_shaped() {
        assert_eq!(hex128("a"), hex128("a"));
        assert_ne!(hex128("a"), hex128("b"));
        assert_eq!(hex128("a").len(), 32);
        let uuid = uuid_shaped(&hex128("a"));
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.matches('-').count(), 4);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let bad = [
            ("[countries.DE]\ncalling_code = \"4x\"\nranges = []", "calling_code"),
            ("[countries.DEU]\ncalling_code = \"49\"\nranges = []", "DEU"),
            (
                "[countries.DE]\ncalling_code = \"49\"\n[[countries.DE.ranges]]\ntype = \"local\"\nprefix = \"30\"\nfirst = \"9\"\ncount = 2\ncapabilities = []",
                "overflows",
            ),
            ("[failures]\nwhatsapp_rejected = [\"49\"]\n[countries]", "failure prefix"),
            ("[countries.DE]\ncalling_code = \"49\"\nranges = []\nextra = 1", "extra"),
        ];
        for (text, needle) in bad {
            let err = Sandbox::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }
}
