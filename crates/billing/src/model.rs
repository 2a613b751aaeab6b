//! Ledger entries and the wallet as the API shows them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use switchboard_core::{Amount, Currency, LedgerEntryId, Money, NumberId, Period, WorkspaceId};
use utoipa::ToSchema;

use crate::entity;

/// What a ledger entry records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EntryKind {
    #[sea_orm(string_value = "rental")]
    Rental,
    #[sea_orm(string_value = "voice_minutes")]
    VoiceMinutes,
    #[sea_orm(string_value = "sms")]
    Sms,
    #[sea_orm(string_value = "credit")]
    Credit,
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
}

/// One immutable ledger entry. `amount` is signed: credits positive, charges negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: LedgerEntryId,
    pub kind: EntryKind,
    pub number_id: Option<NumberId>,
    pub quantity: i64,
    pub amount: Money,
    pub period: Option<Period>,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl From<entity::Model> for LedgerEntry {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            number_id: m.number_id,
            quantity: m.quantity,
            amount: Money::new(Amount::from_units(m.amount), m.currency.parse().unwrap_or(Currency::EUR)),
            period: m.period.and_then(|p| p.parse().ok()),
            description: m.description,
            created_at: m.created_at,
        }
    }
}

/// An entry to record. `idempotency_key` makes recording it again a no-op, e.g.
/// `rental:<number id>:<period>`, `sms:<message sid>`, `call:<call id>`, `credit:<ws>:<reference>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub workspace_id: WorkspaceId,
    pub kind: EntryKind,
    pub number_id: Option<NumberId>,
    pub quantity: i64,
    /// Signed: positive credits, negative charges.
    pub amount: Amount,
    pub period: Option<Period>,
    pub idempotency_key: String,
    pub description: String,
}

/// The outcome of recording an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// This call recorded it.
    New(LedgerEntry),
    /// An entry with the same idempotency key already existed; nothing was written.
    Existing(LedgerEntry),
}

impl Recorded {
    pub fn entry(&self) -> &LedgerEntry {
        match self {
            Recorded::New(e) | Recorded::Existing(e) => e,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Recorded::New(_))
    }
}

/// `GET /v1/billing/wallet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Wallet {
    pub workspace_id: WorkspaceId,
    /// The sum of every ledger entry; may be negative (rentals and usage of numbers held).
    pub balance: Money,
}

/// `POST /v1/workspaces/{id}/credits`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredit {
    /// A positive amount, e.g. `"100.00"`.
    pub amount: Amount,
    /// Your reference (1–120 characters); a second credit with the same reference is the same
    /// credit and records nothing.
    pub reference: String,
}
