//! The provider clients against local fakes (wiremock) and the sandbox through its ports.

#![allow(clippy::unwrap_used)]

mod sandbox;
mod sandbox_ses;
mod ses;
mod twilio;
mod vapi;

use std::time::Duration;

use std::path::Path;

use secrecy::SecretString;
use switchboard_core::E164;
use switchboard_providers::{TwilioConfig, VapiConfig};

/// A recorded-shape payload from `fixtures/providers/`.
pub fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/providers").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

/// A base URL where nothing listens (a port just released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn live_configs(twilio_base: &str) -> (TwilioConfig, VapiConfig) {
    let twilio = TwilioConfig {
        base_url: twilio_base.to_owned(),
        messaging_base_url: switchboard_providers::twilio::DEFAULT_MESSAGING_BASE_URL.to_owned(),
        account_sid: "AC0123456789abcdef0123456789abcdef".to_owned(),
        auth_token: SecretString::from("token"),
        timeout: Duration::from_secs(10),
    };
    let vapi = VapiConfig {
        base_url: switchboard_providers::vapi::DEFAULT_BASE_URL.to_owned(),
        api_key: SecretString::from("key"),
        twilio_account_sid: twilio.account_sid.clone(),
        twilio_auth_token: SecretString::from("token"),
        server_secret: SecretString::from("secret"),
        timeout: Duration::from_secs(10),
    };
    (twilio, vapi)
}

#[test]
fn the_live_bundle_builds_from_config_and_refuses_a_bad_base_url() {
    let (twilio, vapi) = live_configs(switchboard_providers::twilio::DEFAULT_BASE_URL);
    assert!(switchboard_providers::live(twilio, vapi).is_ok());
    let (twilio, vapi) = live_configs("not a url");
    let err = switchboard_providers::live(twilio, vapi).unwrap_err();
    assert!(err.to_string().contains("twilio") && err.to_string().contains("not a url"), "{err}");
}
