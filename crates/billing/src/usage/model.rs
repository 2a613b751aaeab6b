//! Metering types: what billing needs to know of a number at the moment of admission, the
//! decisions it answers, and the usage report.

use chrono::{DateTime, Utc};
use serde::Serialize;
use switchboard_core::{Money, NumberId, Period, WorkspaceId, Zone};
use utoipa::ToSchema;

use crate::price::Prices;

/// A number as metering sees it, taken by the numbers domain at the moment of admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    pub workspace_id: WorkspaceId,
    pub number_id: NumberId,
    /// The workspace's zone: usage counts per calendar month in it.
    pub zone: Zone,
    /// The number's rates (from the price list, by its country and type).
    pub prices: Prices,
    /// The number is `enabled` (a disabled or released number admits nothing).
    pub enabled: bool,
    pub calls_enabled: bool,
    pub sms_enabled: bool,
    pub monthly_minutes_limit: Option<i64>,
    pub monthly_sms_limit: Option<i64>,
}

/// Free tiers and call caps of one deployment (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSettings {
    /// Free call minutes per workspace and month, shared by its numbers.
    pub free_minutes: i64,
    /// Free SMS per workspace and month, shared by its numbers.
    pub free_sms: i64,
    /// The longest a single call may run, in minutes, even without a limit.
    pub max_call_minutes: i64,
    /// How long after its granted minutes have run out an unsettled reservation is released.
    pub reservation_grace_minutes: i64,
}

impl Default for UsageSettings {
    fn default() -> Self {
        Self { free_minutes: 60, free_sms: 100, max_call_minutes: 60, reservation_grace_minutes: 15 }
    }
}

/// Why an SMS or a call was not admitted; `code()` is the stable reason stored and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The number is disabled or released.
    NumberDisabled,
    /// Calls are switched off on the number.
    CallsDisabled,
    /// SMS are switched off on the number.
    SmsDisabled,
    /// The number's monthly limit is reached.
    LimitReached,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NumberDisabled => "number_disabled",
            Refusal::CallsDisabled => "calls_disabled",
            Refusal::SmsDisabled => "sms_disabled",
            Refusal::LimitReached => "limit_reached",
        }
    }

    /// A sentence for people (a refused call is told this; an API refusal carries it).
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NumberDisabled => "the number is disabled",
            Refusal::CallsDisabled => "calls are switched off on this number",
            Refusal::SmsDisabled => "SMS are switched off on this number",
            Refusal::LimitReached => "the number's monthly limit is reached",
        }
    }
}

/// An admitted SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAdmission {
    pub period: Period,
    /// Covered by the workspace's free tier.
    pub free: bool,
    /// What it cost (zero when free).
    pub charge: Money,
    /// This key was admitted before; nothing was counted again.
    pub duplicate: bool,
}

/// The answer of [`crate::UsageService::admit_sms`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsDecision {
    Admitted(SmsAdmission),
    Refused(Refusal),
}

/// Minutes reserved for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallGrant {
    pub period: Period,
    /// Whole minutes the call may use; tell the voice provider `minutes × 60` seconds.
    pub minutes: i64,
    /// When the reservation is released if the call is never settled.
    pub expires_at: DateTime<Utc>,
    /// The call was reserved before; this is the same reservation.
    pub duplicate: bool,
}

impl CallGrant {
    pub fn max_duration_seconds(&self) -> i64 {
        self.minutes * 60
    }
}

/// The answer of [`crate::UsageService::reserve_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallDecision {
    Admitted(CallGrant),
    Refused(Refusal),
}

/// A settled call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub period: Period,
    /// Minutes counted (the duration rounded up, never more than the reservation).
    pub minutes: i64,
    pub free_minutes: i64,
    pub charge: Money,
    /// The call was settled before (the other of Vapi's report and Twilio's status came first).
    pub duplicate: bool,
}

/// Used, free and billable quantities of one kind, with their cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageLine {
    pub used: i64,
    pub free: i64,
    pub billable: i64,
    /// What the billable part cost.
    pub amount: Money,
}

/// Rentals charged for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RentalLine {
    pub count: i64,
    pub amount: Money,
}

/// One number's usage in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NumberUsage {
    pub number_id: NumberId,
    pub minutes: UsageLine,
    pub sms: UsageLine,
    pub rentals: RentalLine,
}

/// The free tier of each month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FreeTier {
    pub minutes: i64,
    pub sms: i64,
}

/// `GET /v1/billing/usage`: a workspace's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageReport {
    pub period: Period,
    /// The workspace's zone, in which the month is counted.
    pub timezone: Zone,
    pub free_tier: FreeTier,
    pub minutes: UsageLine,
    pub sms: UsageLine,
    pub rentals: RentalLine,
    /// Minutes, SMS and rentals together.
    pub total: Money,
    /// Numbers with usage or rentals in the period, by id.
    pub numbers: Vec<NumberUsage>,
}
