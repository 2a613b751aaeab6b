//! Handlers, one module per resource. Shared here: list parameters and list bodies.

pub mod agents;
pub mod api_keys;
pub mod billing;
pub mod channels;
pub mod conversations;
pub mod email;
pub mod forwarding;
pub mod notifications;
pub mod numbers;
pub mod opt_outs;
pub mod phone_lines;
pub mod webhooks;
pub mod whatsapp;
pub mod workspaces;

use serde::{Deserialize, Serialize};
use switchboard_core::{Page, PageRequest};
use utoipa::{IntoParams, ToSchema};

use switchboard_web::ApiError;

/// `?limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.limit, self.cursor.as_deref())?)
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for List<T> {
    fn from(p: Page<T>) -> Self {
        Self { data: p.data, next_cursor: p.next_cursor }
    }
}
