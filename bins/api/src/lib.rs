//! # switchboard-api
//!
//! The REST API (SPEC §13): thin handlers over the domain crates' services. A handler extracts
//! (auth, path, query, body), calls one service method with the caller's [`Ctx`], and renders the
//! result; every rule lives in the services, so other Rust services that use the crates directly
//! get the same behaviour.
//!
//! Routes are declared with their OpenAPI description (`utoipa`), so `/openapi.json` is generated
//! from the code and cannot drift from it; `/docs` renders it.
//!
//! [`Ctx`]: switchboard_core::Ctx

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use switchboard_agents::AgentService;
use switchboard_billing::{BillingService, PriceList};
use switchboard_channels::ChannelService;
use switchboard_forwarding::ForwardingService;
use switchboard_numbers::{NumberProviders, NumberService};
use switchboard_phone_lines::PhoneLineService;
use switchboard_providers::{Sandbox, TwilioConfig, VapiConfig};
use switchboard_runtime::{ProviderMode, Settings};
use switchboard_tenancy::TenancyService;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_scalar::{Scalar, Servable};

pub mod auth;
mod openapi;
mod routes;
pub mod seed;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub tenancy: TenancyService,
    pub agents: AgentService,
    pub billing: BillingService,
    pub numbers: NumberService,
    pub phone_lines: PhoneLineService,
    pub forwarding: ForwardingService,
    pub channels: ChannelService,
    /// SHA-256 of the platform admin token; `None` turns the admin API off.
    pub admin_token_hash: Option<[u8; 32]>,
    pub metrics: PrometheusHandle,
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for PrometheusHandle {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        settings: Settings,
        prices: PriceList,
        providers: NumberProviders,
    ) -> Self {
        let tenancy = TenancyService::new(db.clone());
        let agents = AgentService::new(db.clone(), tenancy.clone());
        let billing = BillingService::new(db.clone(), Arc::new(prices), settings.currency);
        let phone_lines = PhoneLineService::new(db.clone(), agents.clone());
        let forwarding = ForwardingService::new(db.clone(), agents.clone());
        let channels = ChannelService::new(db.clone(), agents.clone());
        let numbers = NumberService::new(
            db.clone(),
            tenancy.clone(),
            agents.clone(),
            billing.clone(),
            providers,
            &settings.public_base_url,
        );
        let admin_token_hash =
            settings.admin_token.as_ref().map(|t| Sha256::digest(t.expose_secret().as_bytes()).into());
        Self {
            db,
            tenancy,
            agents,
            billing,
            numbers,
            phone_lines,
            forwarding,
            channels,
            admin_token_hash,
            metrics: switchboard_runtime::metrics::prometheus(),
            settings: Arc::new(settings),
        }
    }
}

/// The routes and their OpenAPI document.
fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(switchboard_web::health::healthz))
        .routes(routes!(switchboard_web::health::readyz))
        .routes(routes!(routes::workspaces::create))
        .routes(routes!(routes::workspaces::current))
        .routes(routes!(routes::workspaces::credit))
        .routes(routes!(routes::billing::wallet))
        .routes(routes!(routes::billing::ledger))
        .routes(routes!(routes::numbers::available))
        .routes(routes!(routes::numbers::list, routes::numbers::provision))
        .routes(routes!(routes::numbers::get, routes::numbers::update, routes::numbers::release))
        .routes(routes!(routes::numbers::reconfigure_webhooks))
        .routes(routes!(routes::phone_lines::list, routes::phone_lines::create))
        .routes(routes!(routes::phone_lines::get, routes::phone_lines::update, routes::phone_lines::delete))
        .routes(routes!(routes::channels::get, routes::channels::update))
        .routes(routes!(routes::forwarding::available))
        .routes(routes!(routes::forwarding::resolve))
        .routes(routes!(routes::forwarding::list, routes::forwarding::create))
        .routes(routes!(routes::forwarding::get, routes::forwarding::update, routes::forwarding::delete))
        .routes(routes!(routes::api_keys::list, routes::api_keys::create))
        .routes(routes!(routes::api_keys::get, routes::api_keys::revoke))
        .routes(routes!(routes::agents::list, routes::agents::create))
        .routes(routes!(routes::agents::get, routes::agents::update, routes::agents::delete))
        .split_for_parts()
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_router().1
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let (router, api) = api_router();
    let body_limit = state.settings.http.body_limit_bytes;
    let timeout = Duration::from_secs(state.settings.http.request_timeout_secs);
    let api_json: Arc<str> = api.to_json().unwrap_or_else(|_| "{}".into()).into();
    let router = router
        .route("/metrics", axum::routing::get(switchboard_web::health::metrics))
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let body = api_json.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()) }
            }),
        )
        .merge(Scalar::with_url("/docs", api));
    switchboard_web::finish(router, body_limit, timeout).with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Why the providers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    #[error("fixtures/sandbox.toml: {0}")]
    Sandbox(#[from] switchboard_providers::SandboxConfigError),
    #[error(transparent)]
    Live(#[from] switchboard_providers::ConfigError),
    #[error("APP__VAPI__API_KEY is required in live mode")]
    MissingVapiKey,
}

/// The providers of the configured mode: in-process simulations, or the real APIs.
pub fn providers_for(settings: &Settings) -> Result<NumberProviders, ProvidersError> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    Ok(match settings.providers {
        ProviderMode::Sandbox => switchboard_providers::sandbox(Sandbox::embedded()?),
        ProviderMode::Live => switchboard_providers::live(
            TwilioConfig {
                base_url: settings.twilio.base_url.clone(),
                messaging_base_url: settings.twilio.messaging_base_url.clone(),
                account_sid: settings.twilio.account_sid.clone(),
                auth_token: settings.twilio.auth_token.clone(),
                timeout: TIMEOUT,
            },
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
