#![allow(clippy::unwrap_used)]
//! One test binary for the crate: every provider's scheme against real vectors and fixtures.

mod errors;
mod meta;
mod sns;
mod twilio;
mod vapi;

use secrecy::SecretString;

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}
