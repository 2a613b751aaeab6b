//! The providers of the configured mode, built once at start-up for every binary: the sandbox's
//! in-process simulations, or the live clients pointed at the configured base URLs.

use std::time::Duration;

use std::sync::Arc;

use switchboard_channels::MessagingProviders;
use switchboard_email_identities::{EmailIdentityProvider, EmailSender};
use switchboard_numbers::NumberProviders;
use switchboard_providers::{
    MetaConfig, Sandbox, SandboxSes, SesClient, SesConfig, TwilioConfig, VapiConfig,
};

use crate::settings::{ProviderMode, Settings};

/// Why the providers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    #[error("fixtures/sandbox.toml: {0}")]
    Sandbox(#[from] switchboard_providers::SandboxConfigError),
    #[error(transparent)]
    Live(#[from] switchboard_providers::ConfigError),
    #[error("APP__VAPI__API_KEY is required in live mode")]
    MissingVapiKey,
    #[error("APP__SES__REGION (or AWS_REGION) is required in live mode")]
    MissingSesRegion,
}

/// Every provider port the binaries use, of one mode.
#[derive(Clone)]
pub struct ProviderSet {
    pub numbers: NumberProviders,
    pub email_identities: Arc<dyn EmailIdentityProvider>,
    pub email_sender: Arc<dyn EmailSender>,
    /// Sending messages (Twilio, Meta) and checking WhatsApp connections.
    pub messaging: MessagingProviders,
}

impl std::fmt::Debug for ProviderSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSet").finish_non_exhaustive()
    }
}

impl ProviderSet {
    /// The sandbox's simulations (the embedded default, and most tests). Messaging runs on the
    /// same `numbers` sandbox, so keep a clone of it to look at the messages sent.
    pub fn sandbox(numbers: Sandbox, email: SandboxSes) -> Self {
        Self {
            messaging: switchboard_providers::sandbox_messaging(numbers.clone()),
            numbers: switchboard_providers::sandbox(numbers),
            email_identities: Arc::new(email.clone()),
            email_sender: Arc::new(email),
        }
    }
}

/// The providers of the configured mode.
pub fn provider_set_for(settings: &Settings) -> Result<ProviderSet, ProvidersError> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    match settings.providers {
        ProviderMode::Sandbox => Ok(ProviderSet::sandbox(Sandbox::embedded()?, SandboxSes::new())),
        ProviderMode::Live => {
            let ses = Arc::new(SesClient::new(SesConfig {
                region: settings.ses.region.clone().ok_or(ProvidersError::MissingSesRegion)?,
                endpoint_url: settings.ses.endpoint_url.clone(),
                credentials: None,
                timeout: TIMEOUT,
            })?);
            let meta = MetaConfig {
                base_url: settings.meta.graph_base_url.clone(),
                api_version: settings.meta.graph_api_version.clone(),
                timeout: TIMEOUT,
            };
            Ok(ProviderSet {
                numbers: providers_for(settings)?,
                email_identities: ses.clone(),
                email_sender: ses,
                messaging: switchboard_providers::live_messaging(twilio_config(settings, TIMEOUT), meta)?,
            })
        }
    }
}

/// The providers of the configured mode: in-process simulations, or the real APIs.
pub fn providers_for(settings: &Settings) -> Result<NumberProviders, ProvidersError> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    Ok(match settings.providers {
        ProviderMode::Sandbox => switchboard_providers::sandbox(Sandbox::embedded()?),
        ProviderMode::Live => switchboard_providers::live(
            twilio_config(settings, TIMEOUT),
            VapiConfig {
                base_url: settings.vapi.base_url.clone(),
                // Live settings cannot load without an API key.
                api_key: settings.vapi.api_key.clone().ok_or(ProvidersError::MissingVapiKey)?,
                twilio_account_sid: settings.twilio.account_sid.clone(),
                twilio_auth_token: settings.twilio.auth_token.clone(),
                server_secret: settings.vapi.server_secret.clone(),
                timeout: TIMEOUT,
            },
        )?,
    })
}

fn twilio_config(settings: &Settings, timeout: Duration) -> TwilioConfig {
    TwilioConfig {
        base_url: settings.twilio.base_url.clone(),
        messaging_base_url: settings.twilio.messaging_base_url.clone(),
        account_sid: settings.twilio.account_sid.clone(),
        auth_token: settings.twilio.auth_token.clone(),
        timeout,
    }
}
