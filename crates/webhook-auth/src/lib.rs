//! # switchboard-webhook-auth
//!
//! Authentication of the webhooks providers send to `switchboard-webhook-ingest` (SPEC §10):
//! Twilio's `X-Twilio-Signature` ([`twilio`]), Meta's `X-Hub-Signature-256` and subscription
//! challenge ([`meta`]), Vapi's server secret ([`vapi`]) and AWS SNS message signatures
//! ([`sns`]). Pure functions over the raw request parts — no database, no configuration loading,
//! no HTTP server; the only I/O is SNS's own: fetching signing certificates behind the
//! [`sns::CertificateSource`] port, and confirming a verified subscription behind the
//! [`sns::SubscriptionConfirmer`] port (both only to genuine SNS hosts).
//!
//! ## Invariants
//!
//! - **Authenticate before anything is stored.** The binary calls these functions on the raw
//!   request first; a request that fails is answered [`SignatureError::status`] (401/403, or
//!   400/503 where the failure is not about who sent it) and changes nothing. Signatures are
//!   checked over the bytes as received — never a re-serialised body.
//! - **Constant-time comparisons.** Every signature, hash and token comparison goes through
//!   `subtle`. Shared secrets (Vapi's server secret, Meta's verify token) are hashed before the
//!   comparison so not even their length shows in the timing. Where two candidates are tried
//!   (Twilio's port variants, Vapi's two headers) both are always computed.
//! - **Secrets stay secret.** They are [`secrecy::SecretString`]; errors name the header or field
//!   at fault, never a secret, a computed signature or a received value. An empty configured
//!   secret authenticates nothing ([`SignatureError::NotConfigured`], 503).
//! - **Genuine SNS hosts only.** `SigningCertURL` is not covered by the signature, so the
//!   certificate is trusted only because it comes over HTTPS from SNS itself:
//!   `https://sns.<region>.amazonaws.com[.cn]/….pem`, no credentials, no other port, no
//!   redirects. Everything else — S3 and other `*.amazonaws.com` hosts, lookalikes such as
//!   `sns.us-east-1.amazonaws.com.evil.com`, http — is [`SignatureError::UntrustedHost`]. A
//!   `SubscribeURL` passes the same rule before anything GETs it.
//! - **Only our topics.** SNS signs every topic's messages, an attacker's too, so a verifier
//!   accepts a fixed list of topic ARNs.
//!
//! ## Decisions where the provider documents are silent
//!
//! | topic | decision |
//! |---|---|
//! | SNS region label | must look like a region (`eu-central-1`, `us-gov-west-1`): AWS's own pattern `[a-zA-Z0-9-]{3,}` admits `sns.s3-us-west-2.amazonaws.com`, S3's legacy endpoint for a bucket named `sns` |
//! | SNS checks before the signature | host, topic and age come first, so a forged message costs no outbound request unless it names our topic |
//! | SNS maximum age | 1 hour by default (SNS's default HTTP retry policy ends well within it), configurable or off; a `Timestamp` ahead of our clock is not refused (clock skew; a replay is caught by the `MessageId` key downstream) |
//! | Twilio port quirk | only the scheme's default port is added or removed (twilio-python strips any port); a non-default port is signed as configured |
//! | Twilio repeated parameters | exact duplicates (same name and value) count once, as in twilio-python |
//! | Twilio SharedKey (`X-Twilio-Webhooks-Signature-Settings`) | not supported: it only applies with Webhook Rules, which Switchboard does not configure |
//! | Vapi HMAC credential | not supported: the format of the signed timestamp is not documented, so no freshness window can be stated; the secret header and Bearer are |
//! | A malformed signature header | [`SignatureError::Mismatch`] (401), like a wrong one: only a body that is not the provider's format at all is 400 |
//! | Meta's legacy `X-Hub-Signature` (SHA-1) | not accepted |
//! | SNS certificate that does not parse | [`SignatureError::CertificateUnavailable`] (503): it came from AWS, so SNS should retry, and it is not cached |

mod ct;
mod error;
pub mod meta;
pub mod sns;
pub mod twilio;
pub mod vapi;

pub use error::{CertificateError, SignatureError};
