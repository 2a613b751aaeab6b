//! # switchboard-numbers
//!
//! Phone numbers (SPEC §4): what a provider has for sale, provisioning (with the US fallback,
//! webhook wiring, the Vapi import and best-effort WhatsApp registration), the number's lifecycle
//! and its release.
//!
//! This crate owns the **ports** it needs from providers ([`ports`]); `switchboard-providers`
//! implements them for Twilio and Vapi (live HTTP clients) and for the sandbox.

mod entity;
pub mod idempotency;
mod metering;
pub mod model;
pub mod ports;
pub mod rentals;
pub mod service;
mod store;

pub use model::{
    AvailableNumber, Capabilities, Notice, Number, NumberFilter, NumberPatch, NumberStatus, Offer,
    ProvisionRequest, Provisioned, PurchasedNumber, SearchQuery, WebhookTargets, WhatsappStatus,
};
pub use ports::{NumberInventory, SenderRegistration, SenderStatus, VoiceGateway, WhatsappSenders};
pub use service::{NumberProviders, NumberService, SearchParams};
