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

pub use switchboard_runtime::providers::{ProviderSet, ProvidersError, provider_set_for, providers_for};

use axum::Router;
use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use switchboard_agents::AgentService;
use switchboard_billing::{BillingService, PriceList, UsageService};
use switchboard_channels::ChannelService;
use switchboard_channels::notifications::NotificationService;
use switchboard_channels::opt_outs::OptOutService;
use switchboard_channels::webhooks::WebhookService;
use switchboard_channels::{ConversationService, WhatsappService};
use switchboard_email_identities::EmailService;
use switchboard_forwarding::ForwardingService;
use switchboard_numbers::NumberService;
use switchboard_phone_lines::PhoneLineService;
use switchboard_runtime::Settings;
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
    pub usage: UsageService,
    pub numbers: NumberService,
    pub phone_lines: PhoneLineService,
    pub forwarding: ForwardingService,
    pub channels: ChannelService,
    pub email: EmailService,
    pub whatsapp: WhatsappService,
    pub conversations: ConversationService,
    pub opt_outs: OptOutService,
    pub notifications: NotificationService,
    pub webhooks: WebhookService,
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
        providers: ProviderSet,
    ) -> Self {
        let tenancy = TenancyService::new(db.clone());
        let agents = AgentService::new(db.clone(), tenancy.clone());
        let billing = BillingService::new(db.clone(), Arc::new(prices), settings.currency);
        let usage = UsageService::new(db.clone(), tenancy.clone(), settings.currency, settings.usage);
        let phone_lines = PhoneLineService::new(db.clone(), agents.clone());
        let forwarding = ForwardingService::new(db.clone(), agents.clone());
        let email = EmailService::new(
            db.clone(),
            agents.clone(),
            providers.email_identities.clone(),
            settings.email_system_domain.clone(),
        );
        let channels = ChannelService::new(db.clone(), agents.clone(), email.clone());
        let notifications = NotificationService::new(db.clone());
        let numbers = NumberService::new(
            db.clone(),
            tenancy.clone(),
            agents.clone(),
            billing.clone(),
            providers.numbers,
            &settings.public_base_url,
        );
        let sealer = switchboard_core::secret_box::Sealer::new(settings.encryption_key.clone());
        let webhooks = WebhookService::new(db.clone(), agents.clone(), sealer.clone());
        let whatsapp =
            WhatsappService::new(db.clone(), agents.clone(), sealer.clone(), providers.messaging.clone());
        let conversations = ConversationService::new(
            db.clone(),
            numbers.clone(),
            usage.clone(),
            providers.messaging.clone(),
            sealer,
            Some(&settings.public_base_url),
        );
        let opt_outs = OptOutService::new(db.clone());
        let admin_token_hash =
            settings.admin_token.as_ref().map(|t| Sha256::digest(t.expose_secret().as_bytes()).into());
        Self {
            db,
            tenancy,
            agents,
            billing,
            usage,
            numbers,
            phone_lines,
            forwarding,
            channels,
            email,
            whatsapp,
            conversations,
            opt_outs,
            notifications,
            webhooks,
            admin_token_hash,
            metrics: switchboard_runtime::metrics::prometheus(),
            settings: Arc::new(settings),
        }
    }
}

/// The routes and their OpenAPI document.
fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(switchboard_web::health::healthz))
        .routes(routes!(switchboard_web::health::readyz))
        .routes(routes!(routes::workspaces::create))
        .routes(routes!(routes::workspaces::current))
        .routes(routes!(routes::workspaces::credit))
        .routes(routes!(routes::billing::wallet))
        .routes(routes!(routes::billing::ledger))
        .routes(routes!(routes::billing::usage))
        .routes(routes!(routes::numbers::available))
        .routes(routes!(routes::numbers::list, routes::numbers::provision))
        .routes(routes!(routes::numbers::get, routes::numbers::update, routes::numbers::release))
        .routes(routes!(routes::numbers::reconfigure_webhooks))
        .routes(routes!(routes::phone_lines::list, routes::phone_lines::create))
        .routes(routes!(routes::phone_lines::get, routes::phone_lines::update, routes::phone_lines::delete))
        .routes(routes!(routes::channels::get, routes::channels::update))
        .routes(routes!(routes::email::get))
        .routes(routes!(routes::email::verify))
        .routes(routes!(routes::forwarding::available))
        .routes(routes!(routes::forwarding::resolve))
        .routes(routes!(routes::forwarding::list, routes::forwarding::create))
        .routes(routes!(routes::forwarding::get, routes::forwarding::update, routes::forwarding::delete))
        .routes(routes!(routes::api_keys::list, routes::api_keys::create))
        .routes(routes!(routes::api_keys::get, routes::api_keys::revoke))
        .routes(routes!(routes::agents::list, routes::agents::create))
        .routes(routes!(routes::agents::get, routes::agents::update, routes::agents::delete))
        .routes(routes!(routes::whatsapp::list, routes::whatsapp::create))
        .routes(routes!(routes::whatsapp::get, routes::whatsapp::update, routes::whatsapp::delete))
        .routes(routes!(routes::whatsapp::restore))
        .routes(routes!(routes::whatsapp::verify))
        .routes(routes!(routes::conversations::list, routes::conversations::start))
        .routes(routes!(
            routes::conversations::get,
            routes::conversations::update,
            routes::conversations::delete
        ))
        .routes(routes!(routes::conversations::close))
        .routes(routes!(routes::conversations::archive))
        .routes(routes!(routes::conversations::reopen))
        .routes(routes!(routes::conversations::escalate))
        .routes(routes!(routes::conversations::send))
        .routes(routes!(routes::opt_outs::list, routes::opt_outs::create))
        .routes(routes!(routes::opt_outs::delete))
        .routes(routes!(routes::notifications::list))
        .routes(routes!(routes::notifications::read_all))
        .routes(routes!(routes::notifications::get))
        .routes(routes!(routes::notifications::read))
        .routes(routes!(routes::webhooks::secret))
        .routes(routes!(routes::webhooks::rotate))
        .routes(routes!(routes::webhooks::list))
        .routes(routes!(routes::webhooks::get))
        .routes(routes!(routes::webhooks::replay))
        .split_for_parts();
    openapi::add_common_responses(&mut api);
    (router, api)
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
