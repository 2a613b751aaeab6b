//! The invariants a run must leave behind, checked with SQL against the shared database (and the
//! API's wallet against the ledger). Each check says what it saw, so a failure is its own evidence.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use switchboard_core::Amount;

use super::{SeededWorkspace, call, count, rfc3339};

/// What the load generator was told, to compare the database with.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Distinct inbound message ids webhook-ingest acknowledged (2xx) at least once.
    pub inbound_sids: u64,
    /// Distinct reply `Idempotency-Key`s answered 201.
    pub replies: u64,
    /// Distinct credit references answered 201 or 200, and their sum in 1/10 000 units.
    pub credits: u64,
    pub credit_units: i64,
    /// Rental periods due as of `rentals_now`.
    pub rental_periods: u64,
    pub rentals_now: Option<DateTime<Utc>>,
    /// `billing.free_sms` of the binaries.
    pub free_sms: i64,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

async fn texts(conn: &DatabaseConnection, sql: &str) -> Vec<String> {
    conn.query_all(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap_or_default())
        .collect()
}

/// Groups of `select` (a `SELECT … GROUP BY …`) with more than one row.
async fn duplicates(conn: &DatabaseConnection, select: &str) -> i64 {
    count(conn, &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM ({select} HAVING COUNT(*) > 1) d")).await
}

/// Every invariant, in the order of the report. `apis` are the API servers' bases; the wallet of
/// each workspace is read from each of them.
pub async fn run(
    conn: &DatabaseConnection,
    apis: &[String],
    workspaces: &[SeededWorkspace],
    expect: &Expect,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |name: &'static str, ok: bool, detail: String| checks.push(Check { name, ok, detail });

    // One inbound event per provider id.
    let dup_events = duplicates(
        conn,
        "SELECT provider, kind, external_id FROM inbound_events GROUP BY provider, kind, external_id",
    )
    .await;
    let stored = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events WHERE provider = 'twilio' AND kind = 'message'",
    )
    .await;
    check(
        "one inbound event per provider id",
        dup_events == 0 && stored == expect.inbound_sids as i64,
        format!(
            "{stored} stored for {} acknowledged MessageSids; {dup_events} ids stored twice",
            expect.inbound_sids
        ),
    );

    // Every event settled, each inbound SMS counted and appended once.
    let states = texts(
        conn,
        "SELECT state || COALESCE(':' || reason, '') || '=' || CAST(COUNT(*) AS TEXT) FROM inbound_events \
         GROUP BY state, reason ORDER BY state, reason",
    )
    .await;
    let processed =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events WHERE state = 'processed'").await;
    let limit_dropped = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events WHERE state = 'dropped' AND reason = 'limit_reached'",
    )
    .await;
    check(
        "every event settled (processed, or dropped at the limit)",
        processed + limit_dropped == stored,
        states.join(", "),
    );
    let records_in = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE kind = 'sms' AND key LIKE 'sms:SM%'",
    )
    .await;
    let messages_in =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM conversation_messages WHERE direction = 'inbound'")
            .await;
    let dup_records = duplicates(conn, "SELECT key FROM usage_records GROUP BY key").await;
    let dup_messages = duplicates(
        conn,
        "SELECT workspace_id, provider_message_id FROM conversation_messages \
         WHERE provider_message_id IS NOT NULL GROUP BY workspace_id, provider_message_id",
    )
    .await;
    check(
        "each inbound SMS counted and stored once",
        records_in == processed && messages_in == processed && dup_records == 0 && dup_messages == 0,
        format!(
            "{processed} processed events, {records_in} usage records, {messages_in} inbound messages; \
             duplicate record keys {dup_records}, duplicate provider message ids {dup_messages}"
        ),
    );

    // Replies: one send per Idempotency-Key.
    let messages_out = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM conversation_messages WHERE direction = 'outbound'",
    )
    .await;
    let records_out = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE key LIKE 'sms:out:%' AND quantity > 0",
    )
    .await;
    let released =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE state = 'released'").await;
    let keys_done = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency_keys \
         WHERE scope = 'conversation_message' AND state = 'done'",
    )
    .await;
    check(
        "one reply per Idempotency-Key, counted once",
        messages_out == expect.replies as i64 && records_out == messages_out && keys_done == messages_out,
        format!(
            "{} keys answered 201; {messages_out} outbound messages, {records_out} counted, {keys_done} keys \
             done, {released} released",
            expect.replies
        ),
    );

    // The ledger: unique keys; SMS charges match the usage records.
    let dup_ledger =
        duplicates(conn, "SELECT idempotency_key FROM ledger_entries GROUP BY idempotency_key").await;
    let sms_ledger = count(
        conn,
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
         WHERE idempotency_key LIKE 'sms:%' OR idempotency_key LIKE 'refund:sms:%'",
    )
    .await;
    let sms_charged =
        count(conn, "SELECT CAST(COALESCE(SUM(charge), 0) AS BIGINT) FROM usage_records WHERE kind = 'sms'")
            .await;
    let orphans = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries l WHERE l.idempotency_key LIKE 'sms:%' \
         AND NOT EXISTS (SELECT 1 FROM usage_records r WHERE r.key = l.idempotency_key)",
    )
    .await;
    let sms_entries =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'sms'").await;
    check(
        "each SMS charged once (ledger keys unique, ledger = usage records)",
        dup_ledger == 0 && sms_ledger == -sms_charged && orphans == 0,
        format!(
            "{sms_entries} SMS entries summing {}, records charge {}; duplicate keys {dup_ledger}, entries \
             without a record {orphans}",
            Amount::from_units(sms_ledger),
            Amount::from_units(sms_charged)
        ),
    );

    // Limits.
    let over = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_counters c JOIN numbers n ON n.id = c.number_id \
         WHERE n.monthly_sms_limit IS NOT NULL AND c.sms_used > n.monthly_sms_limit",
    )
    .await;
    let at_limit = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_counters c JOIN numbers n ON n.id = c.number_id \
         WHERE n.monthly_sms_limit IS NOT NULL AND c.sms_used = n.monthly_sms_limit",
    )
    .await;
    let limited =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM numbers WHERE monthly_sms_limit IS NOT NULL").await;
    check(
        "no number's sms_used above its limit",
        over == 0,
        format!("{over} above; {at_limit} of {limited} limited numbers exactly at their limit"),
    );

    // Counters = the sum of the records.
    let number_off = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_counters c WHERE c.sms_used <> (SELECT \
         COALESCE(SUM(r.quantity), 0) FROM usage_records r WHERE r.kind = 'sms' AND r.number_id = c.number_id \
         AND r.period = c.period)",
    )
    .await;
    let missing_counter = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT number_id, period FROM usage_records WHERE kind = 'sms' \
         GROUP BY number_id, period) g WHERE NOT EXISTS (SELECT 1 FROM usage_counters c \
         WHERE c.number_id = g.number_id AND c.period = g.period)",
    )
    .await;
    let workspace_off = count(
        conn,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM workspace_usage w WHERE w.sms_used <> (SELECT \
         COALESCE(SUM(r.quantity), 0) FROM usage_records r WHERE r.kind = 'sms' \
         AND r.workspace_id = w.workspace_id AND r.period = w.period)",
    )
    .await;
    let free_off = count(
        conn,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM workspace_usage w WHERE (SELECT \
             COALESCE(SUM(r.free_quantity), 0) FROM usage_records r WHERE r.kind = 'sms' \
             AND r.workspace_id = w.workspace_id AND r.period = w.period) \
             <> CASE WHEN w.sms_used < {free} THEN w.sms_used ELSE {free} END",
            free = expect.free_sms
        ),
    )
    .await;
    let sms_used =
        count(conn, "SELECT CAST(COALESCE(SUM(sms_used), 0) AS BIGINT) FROM workspace_usage").await;
    check(
        "counters = Σ usage records (numbers, workspaces, free tier)",
        number_off == 0 && missing_counter == 0 && workspace_off == 0 && free_off == 0,
        format!(
            "{sms_used} SMS counted; mismatching number counters {number_off} (+{missing_counter} missing), \
             workspace counters {workspace_off}, free-tier splits {free_off}"
        ),
    );

    // Rentals.
    let dup_rentals = duplicates(
        conn,
        "SELECT number_id, period FROM ledger_entries WHERE kind = 'rental' GROUP BY number_id, period",
    )
    .await;
    let rentals =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'rental'").await;
    let still_due = match expect.rentals_now {
        Some(now) => {
            let backend = conn.get_database_backend();
            let at = if backend == sea_orm::DatabaseBackend::Postgres { "$1" } else { "?" };
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM numbers WHERE held_number IS NOT NULL AND next_rental_at <= {at}"
            );
            let row = conn
                .query_one(Statement::from_sql_and_values(backend, sql, [now.into()]))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
        None => 0,
    };
    check(
        "one rental charge per (number, period)",
        dup_rentals == 0 && rentals == expect.rental_periods as i64 && still_due == 0,
        format!(
            "{rentals} rental entries for {} periods due{}; {dup_rentals} charged twice, {still_due} still due",
            expect.rental_periods,
            expect.rentals_now.map(|t| format!(" by {}", rfc3339(t))).unwrap_or_default()
        ),
    );

    // Credits.
    let credits =
        count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'credit'").await;
    let credited = count(
        conn,
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE kind = 'credit'",
    )
    .await;
    check(
        "one credit per reference",
        credits == expect.credits as i64 && credited == expect.credit_units,
        format!(
            "{credits} credit entries summing {} for {} references ({})",
            Amount::from_units(credited),
            expect.credits,
            Amount::from_units(expect.credit_units)
        ),
    );

    // Σ ledger = the balance every API process derives.
    let client = reqwest::Client::new();
    let mut wrong = Vec::new();
    let mut total = 0;
    for ws in workspaces {
        let sum = count(
            conn,
            &format!(
                "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE workspace_id = '{}'",
                ws.id
            ),
        )
        .await;
        total += sum;
        for api in apis {
            let answered = match call(client.get(format!("{api}/v1/billing/wallet")).bearer_auth(&ws.key))
                .await
            {
                Ok((200, body)) => body["balance"]["amount"].as_str().and_then(|a| a.parse::<Amount>().ok()),
                _ => None,
            };
            if answered.map(Amount::units) != Some(sum) {
                wrong.push(format!(
                    "{} at {api}: ledger {} vs wallet {answered:?}",
                    ws.id,
                    Amount::from_units(sum)
                ));
            }
        }
    }
    check(
        "Σ ledger = the derived balance (every workspace, every API process)",
        wrong.is_empty(),
        if wrong.is_empty() {
            format!(
                "{} workspaces × {} processes agree; Σ = {}",
                workspaces.len(),
                apis.len(),
                Amount::from_units(total)
            )
        } else {
            wrong.join("; ")
        },
    );

    // One conversation per thread, one notice per dedupe key.
    let dup_threads = duplicates(
        conn,
        "SELECT workspace_id, channel, business_address, contact FROM conversations \
         GROUP BY workspace_id, channel, business_address, contact",
    )
    .await;
    let dup_notices = duplicates(
        conn,
        "SELECT dedupe_key FROM notifications WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key",
    )
    .await;
    let notices = texts(
        conn,
        "SELECT kind || '=' || CAST(COUNT(*) AS TEXT) FROM notifications GROUP BY kind ORDER BY kind",
    )
    .await;
    check(
        "one conversation per thread, one notification per dedupe key",
        dup_threads == 0 && dup_notices == 0,
        format!(
            "{dup_threads} threads twice, {dup_notices} notices twice; notifications: {}",
            if notices.is_empty() { "none".into() } else { notices.join(", ") }
        ),
    );
    checks
}

/// Prints the checks as a table; answers whether all hold.
pub fn report(checks: &[Check]) -> bool {
    println!("| invariant | | evidence |");
    println!("|---|---|---|");
    for c in checks {
        println!("| {} | {} | {} |", c.name, if c.ok { "✓" } else { "✗" }, c.detail);
    }
    checks.iter().all(|c| c.ok)
}
