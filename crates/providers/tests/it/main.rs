//! The provider clients against local fakes (wiremock) and the sandbox through its ports.

#![allow(clippy::unwrap_used)]

mod meta;
mod sandbox;
mod sandbox_messaging;
mod sandbox_ses;
mod ses;
mod twilio;
mod twilio_messaging;
mod vapi;

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::path::Path;

use secrecy::SecretString;
use switchboard_core::E164;
use switchboard_providers::{MetaConfig, TwilioConfig, VapiConfig};
use tracing::instrument::WithSubscriber;

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

/// Everything logged (every level, every target) while `work` runs, as text.
pub async fn capture_logs(work: impl Future<Output = ()>) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    work.with_subscriber(subscriber).await;
    let bytes = buffer.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
    String::from_utf8(bytes).unwrap()
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

#[test]
fn the_live_messaging_bundle_builds_from_config_and_refuses_a_bad_version() {
    let (twilio, _) = live_configs(switchboard_providers::twilio::DEFAULT_BASE_URL);
    let meta = |version: &str| MetaConfig {
        base_url: switchboard_providers::meta::DEFAULT_BASE_URL.to_owned(),
        api_version: version.to_owned(),
        timeout: Duration::from_secs(10),
    };
    assert!(switchboard_providers::live_messaging(twilio.clone(), meta("v23.0")).is_ok());
    let err = switchboard_providers::live_messaging(twilio, meta("latest")).unwrap_err();
    assert!(err.to_string().contains("meta") && err.to_string().contains("latest"), "{err}");
}
