//! `/v1/billing/…`: the wallet and the ledger (owner, admin).

use axum::extract::State;
use switchboard_billing::{LedgerEntry, Wallet};
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
