//! Queries on `inbound_events`. The table is written before any workspace is known (routing is
//! part of processing), so, like authentication by key hash, these lookups are not scoped by a
//! workspace; an event's `workspace_id` is filled in when processing routes it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iden, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};
use switchboard_core::InboundEventId;
use switchboard_core::db::{placeholder, values_list};

use crate::entity::{Column, Entity, Model};
use crate::model::{EventKind, EventRecord, EventState, NewEvent, Outcome, Provider, StoredEvent};

const RECEIVED: &str = "received";

/// Inserts `events` in one statement, skipping every key stored before (and repeats within the
/// batch): for each event, whether it was inserted.
pub async fn insert_batch(conn: &impl ConnectionTrait, events: &[NewEvent]) -> Result<Vec<bool>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // The first of several events with one key is the one offered to the database.
    let mut seen = HashSet::new();
    let offered: Vec<bool> =
        events.iter().map(|e| seen.insert((e.provider, e.kind, e.external_id.as_str()))).collect();
    let mut insert = Query::insert();
    insert
        .into_table(Entity)
        .columns([
            Column::Id,
            Column::Provider,
            Column::Kind,
            Column::ExternalId,
            Column::WorkspaceId,
            Column::Payload,
            Column::State,
            Column::Reason,
            Column::Attempts,
            Column::ReceivedAt,
            Column::ProcessedAt,
        ])
        .on_conflict(
            OnConflict::columns([Column::Provider, Column::Kind, Column::ExternalId]).do_nothing().to_owned(),
        )
        .returning_col(Column::Id);
    // Rows in key order: two processes storing overlapping keys at once (a provider delivering
    // one event to two replicas) then wait for each other's keys in the same order instead of
    // deadlocking on PostgreSQL's unique index (the scale-out proof saw that).
    let mut rows: Vec<&NewEvent> =
        events.iter().zip(&offered).filter(|(_, offered)| **offered).map(|(e, _)| e).collect();
    rows.sort_by(|a, b| {
        (a.provider.as_str(), a.kind.as_str(), &a.external_id).cmp(&(
            b.provider.as_str(),
            b.kind.as_str(),
            &b.external_id,
        ))
    });
    for event in rows {
        let (state, reason, workspace, processed_at, attempts) = match &event.settled {
            Some(o) => {
                (o.state.as_str(), o.reason.clone(), o.workspace_id.clone(), Some(event.received_at), 1)
            }
            None => (RECEIVED, None, None, None, 0),
        };
        insert.values_panic([
            event.id.to_string().into(),
            event.provider.as_str().into(),
            event.kind.as_str().into(),
            event.external_id.clone().into(),
            workspace.map(|w| w.to_string()).into(),
            event.payload.clone().into(),
            state.into(),
            reason.into(),
            attempts.into(),
            event.received_at.into(),
            processed_at.into(),
        ]);
    }
    let rows = conn.query_all(conn.get_database_backend().build(&insert)).await?;
    let inserted: HashSet<String> =
        rows.iter().map(|r| r.try_get::<String>("", &Column::Id.to_string())).collect::<Result<_, _>>()?;
    Ok(events.iter().map(|e| inserted.contains(e.id.as_str())).collect())
}

/// Settles a `received` event; whether this call settled it (false: someone else did first).
pub async fn finish(
    conn: &impl ConnectionTrait,
    id: &InboundEventId,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(!finish_many(conn, &[(id, outcome)], at).await?.is_empty())
}

/// Settles the `received` events among `settled`, each with its outcome, in one statement per
/// chunk — `UPDATE … FROM (VALUES (id, state, reason, workspace), …)`, which both engines run as
/// a lookup by id per row; answers the ids this call settled (an event someone else settled first
/// is left as it is).
pub async fn finish_many(
    conn: &impl ConnectionTrait,
    settled: &[(&InboundEventId, &Outcome)],
    at: DateTime<Utc>,
) -> Result<HashSet<InboundEventId>, DbErr> {
    let backend = conn.get_database_backend();
    let mut done = HashSet::with_capacity(settled.len());
    for chunk in settled.chunks(EVENTS_PER_STATEMENT) {
        let mut values: Vec<sea_orm::Value> = vec![at.into()];
        let rows = values_list(
            backend,
            &mut values,
            chunk.iter().map(|(id, outcome)| -> [sea_orm::Value; 4] {
                [
                    id.to_string().into(),
                    outcome.state.as_str().into(),
                    outcome.reason.clone().into(),
                    outcome.workspace_id.as_ref().map(|w| w.to_string()).into(),
                ]
            }),
        );
        let sql = format!(
            "UPDATE inbound_events SET state = v.column2, reason = v.column3, workspace_id = v.column4, \
             processed_at = {at}, attempts = inbound_events.attempts + 1 \
             FROM (VALUES {rows}) AS v \
             WHERE inbound_events.id = v.column1 AND inbound_events.state = '{RECEIVED}' \
             RETURNING inbound_events.id",
            at = placeholder(backend, 1),
        );
        let statement = sea_orm::Statement::from_sql_and_values(backend, sql, values);
        for row in conn.query_all(statement).await? {
            done.insert(row.try_get::<InboundEventId>("", "id")?);
        }
    }
    Ok(done)
}

/// Events one settling statement carries at most (4 bind values each).
const EVENTS_PER_STATEMENT: usize = 1000;

/// Counts a failed attempt of a `received` event: it stays `received` (and is retried) until
/// `max_attempts` attempts have failed, then it is `failed`. Answers the state it is left in.
pub async fn fail(
    conn: &impl ConnectionTrait,
    id: &InboundEventId,
    reason: &str,
    max_attempts: i32,
    at: DateTime<Utc>,
) -> Result<EventState, DbErr> {
    let give_up = Expr::col(Column::Attempts).gte(max_attempts - 1);
    let state =
        Expr::case(give_up.clone(), Expr::value(EventState::Failed.as_str())).finally(Expr::value(RECEIVED));
    let processed_at = Expr::case(give_up, Expr::value(Some(at))).finally(Expr::col(Column::ProcessedAt));
    Entity::update_many()
        .col_expr(Column::State, state.into())
        .col_expr(Column::ProcessedAt, processed_at.into())
        .col_expr(Column::Reason, Expr::value(Some(reason.to_owned())))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id.clone()))
        .filter(Column::State.eq(RECEIVED))
        .exec(conn)
        .await?;
    let state = Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .and_then(|m| EventState::parse(&m.state))
        .unwrap_or(EventState::Received);
    Ok(state)
}

/// Up to `limit` events still `received` that arrived before `before`, oldest first.
pub async fn pending(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<StoredEvent>, DbErr> {
    let rows = Entity::find()
        .filter(Column::State.eq(RECEIVED))
        .filter(Column::ReceivedAt.lt(before))
        .order_by_asc(Column::ReceivedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().filter_map(stored).collect())
}

/// How many events are `received` and arrived before `before`.
pub async fn pending_count(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find().filter(Column::State.eq(RECEIVED)).filter(Column::ReceivedAt.lt(before)).count(conn).await
}

fn stored(m: Model) -> Option<StoredEvent> {
    let (Some(provider), Some(kind)) = (Provider::parse(&m.provider), EventKind::parse(&m.kind)) else {
        tracing::warn!(event_id = %m.id, kind = %m.kind, "stored event of an unknown kind");
        return None;
    };
    Some(StoredEvent {
        id: m.id,
        provider,
        kind,
        external_id: m.external_id,
        payload: m.payload,
        received_at: m.received_at,
        attempts: m.attempts,
    })
}

fn record(m: Model) -> Option<EventRecord> {
    Some(EventRecord {
        provider: Provider::parse(&m.provider)?,
        kind: EventKind::parse(&m.kind)?,
        state: EventState::parse(&m.state)?,
        id: m.id,
        external_id: m.external_id,
        workspace_id: m.workspace_id,
        payload: m.payload,
        reason: m.reason,
        attempts: m.attempts,
        received_at: m.received_at,
        processed_at: m.processed_at,
    })
}

/// The event stored under a key.
pub async fn find(
    conn: &impl ConnectionTrait,
    provider: Provider,
    kind: EventKind,
    external_id: &str,
) -> Result<Option<EventRecord>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Provider.eq(provider.as_str()))
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::ExternalId.eq(external_id))
        .one(conn)
        .await?
        .and_then(record))
}

/// Every event of a provider, oldest first (operators and tests; not for large tables).
pub async fn by_provider(conn: &impl ConnectionTrait, provider: Provider) -> Result<Vec<EventRecord>, DbErr> {
    Ok(Entity::find()
        .filter(Column::Provider.eq(provider.as_str()))
        .order_by_asc(Column::ReceivedAt)
        .order_by_asc(Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(record)
        .collect())
}

/// How many events are in each state.
pub async fn count_by_state(conn: &impl ConnectionTrait) -> Result<HashMap<EventState, u64>, DbErr> {
    let rows: Vec<(String, i64)> = Entity::find()
        .select_only()
        .column(Column::State)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| Some((EventState::parse(&s)?, u64::try_from(n).unwrap_or(0))))
        .collect())
}
