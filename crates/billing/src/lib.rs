//! # switchboard-billing
//!
//! Money in and out of a workspace (SPEC §9).
//!
//! **Table**: `ledger_entries`.
//!
//! **Invariants**
//! - Every charge and credit is one immutable entry with a unique idempotency key
//!   (`rental:<number>:<period>`, `sms:<message sid>`, `call:<call id>`, `credit:<ws>:<reference>`):
//!   recording it again writes nothing ([`ledger::record`]), enforced by a unique index, not by a
//!   check in code. Nothing updates or deletes an entry.
//! - Amounts are signed integers in 1/10 000 of the currency unit: credits positive, charges
//!   negative. The wallet balance is derived — the sum of the workspace's entries — never stored.
//! - Prices come from the price list ([`price::PriceList`]), loaded and validated once at start.
//! - Reading the wallet and ledger needs `billing_read` (owner, admin). Credits are the platform
//!   admin's.

mod entity;
pub mod ledger;
pub mod model;
pub mod price;
pub mod service;
pub mod usage;

pub use model::{EntryKind, LedgerEntry, NewCredit, NewEntry, Recorded, Wallet};
pub use price::{PriceList, Prices};
pub use service::BillingService;
pub use usage::{
    CallDecision, CallGrant, Meter, Refusal, Settlement, SmsAdmission, SmsDecision, SmsRequest, UsageReport,
    UsageService, UsageSettings,
};
