//! Rows written straight into tables, for tests and benchmarks that need state a service would
//! take months to produce (a number bought on 31 January 2027, a million numbers due for rental).
//! Columns follow the migrations; the services never read anything these leave out.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbErr};
use switchboard_core::{AgentId, NumberId, WorkspaceId};

/// A held number as the numbers domain stores it.
#[derive(Debug, Clone)]
pub struct NumberRow {
    pub id: NumberId,
    pub workspace_id: WorkspaceId,
    pub phone_number: String,
    pub country: &'static str,
    pub enabled: bool,
    /// The agent it serves (must exist in the workspace).
    pub agent_id: Option<AgentId>,
    pub calls_enabled: bool,
    pub sms_enabled: bool,
    pub vapi_phone_number_id: Option<String>,
    pub monthly_minutes_limit: Option<i64>,
    pub monthly_sms_limit: Option<i64>,
    /// In 1/10 000 units.
    pub monthly_price: i64,
    pub rental_anchor_day: i32,
    pub next_rental_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl NumberRow {
    /// An enabled DE local number with SMS and calls on, no agent, no limits, 1.50 a month,
    /// bought now.
    pub fn new(workspace_id: &WorkspaceId, phone_number: impl Into<String>) -> Self {
        let now = switchboard_core::time::now();
        Self {
            id: NumberId::new(),
            workspace_id: workspace_id.clone(),
            phone_number: phone_number.into(),
            country: "DE",
            enabled: true,
            agent_id: None,
            calls_enabled: true,
            sms_enabled: true,
            vapi_phone_number_id: None,
            monthly_minutes_limit: None,
            monthly_sms_limit: None,
            monthly_price: 15_000,
            rental_anchor_day: 1,
            next_rental_at: None,
            created_at: now,
        }
    }
}

const COLUMNS: [&str; 29] = [
    "id",
    "workspace_id",
    "phone_number",
    "held_number",
    "friendly_name",
    "name",
    "country",
    "number_type",
    "cap_voice",
    "cap_sms",
    "cap_mms",
    "cap_fax",
    "agent_id",
    "calls_enabled",
    "sms_enabled",
    "monthly_minutes_limit",
    "monthly_sms_limit",
    "status",
    "whatsapp_status",
    "twilio_sid",
    "vapi_phone_number_id",
    "whatsapp_sender_sid",
    "monthly_price",
    "currency",
    "rental_anchor_day",
    "next_rental_at",
    "created_at",
    "updated_at",
    "released_at",
];

/// Inserts `rows` into `numbers`, several hundred per statement.
pub async fn insert_numbers(conn: &impl ConnectionTrait, rows: &[NumberRow]) -> Result<(), DbErr> {
    let columns = &COLUMNS;
    for chunk in rows.chunks(500) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("numbers")).columns(columns.iter().map(|c| Alias::new(*c)));
        for r in chunk {
            let values: [SimpleExpr; 29] = [
                r.id.to_string().into(),
                r.workspace_id.to_string().into(),
                r.phone_number.clone().into(),
                Some(r.phone_number.clone()).into(),
                r.phone_number.clone().into(),
                r.phone_number.clone().into(),
                r.country.into(),
                "local".into(),
                true.into(),
                true.into(),
                false.into(),
                false.into(),
                r.agent_id.as_ref().map(ToString::to_string).into(),
                r.calls_enabled.into(),
                r.sms_enabled.into(),
                r.monthly_minutes_limit.into(),
                r.monthly_sms_limit.into(),
                if r.enabled { "enabled" } else { "disabled" }.into(),
                "skipped".into(),
                None::<String>.into(),
                r.vapi_phone_number_id.clone().into(),
                None::<String>.into(),
                r.monthly_price.into(),
                "EUR".into(),
                r.rental_anchor_day.into(),
                r.next_rental_at.into(),
                r.created_at.into(),
                r.created_at.into(),
                None::<DateTime<Utc>>.into(),
            ];
            insert.values_panic(values);
        }
        conn.execute(conn.get_database_backend().build(&insert)).await?;
    }
    Ok(())
}
