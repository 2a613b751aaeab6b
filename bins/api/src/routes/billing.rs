//! `/v1/billing/…`: the wallet, the ledger and the usage report (owner, admin).

use axum::extract::State;
use switchboard_billing::{LedgerEntry, UsageReport, Wallet};
use switchboard_core::Period;
use switchboard_web::extract::Query;
use switchboard_web::{ApiResult, Problem};

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;

/// The wallet: the balance derived from the ledger.
#[utoipa::path(get, path = "/v1/billing/wallet", tag = "billing",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Wallet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn wallet(Auth(ctx): Auth, State(state): State<AppState>) -> ApiResult<axum::Json<Wallet>> {
    Ok(axum::Json(state.billing.wallet(&ctx).await?))
}

/// The ledger, oldest entry first. Charges are negative, credits positive.
#[utoipa::path(get, path = "/v1/billing/ledger", tag = "billing", params(ListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = List<LedgerEntry>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ledger(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<List<LedgerEntry>>> {
    Ok(axum::Json(state.billing.ledger(&ctx, &params.page()?).await?.into()))
}

/// `?period=` of the usage report.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// The month, `YYYY-MM`, in the workspace's time zone; default: the current month.
    #[param(value_type = Option<String>, example = "2026-11")]
    pub period: Option<Period>,
}

/// Usage and cost of a month: call minutes and SMS used, how much the shared free tier covered,
/// what the rest cost, rentals, and the total — for the workspace and per number.
#[utoipa::path(get, path = "/v1/billing/usage", tag = "billing", params(UsageParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UsageReport),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn usage(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<UsageParams>,
) -> ApiResult<axum::Json<UsageReport>> {
    Ok(axum::Json(state.usage.report(&ctx, params.period).await?))
}
