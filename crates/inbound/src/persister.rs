//! Group commit: one writer task stores the events of all concurrent requests.
//!
//! Each request hands its events to the writer over a channel and waits. The writer takes what
//! has queued up (up to [`Persister::MAX_BATCH`] events), stores it with one
//! `INSERT … ON CONFLICT DO NOTHING RETURNING id`, and answers every waiting request once that
//! statement is durable. Under load the batches grow by themselves, so the database sees one
//! write per batch instead of one per request (SQLite has one writer at a time anyway); with a
//! single request in flight nothing waits for a batch to fill.
//!
//! A request is answered only after its batch committed: an acknowledged event is stored.

use crate::gate::WriteGate;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::model::{NewEvent, Persisted};
use crate::store;

struct Job {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<Persisted>, PersistError>>,
}

/// Why events could not be stored; the request should be answered 503 so the provider retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PersistError {
    #[error("storing the event failed: {0}")]
    Database(String),
    #[error("the event writer has stopped")]
    Stopped,
}

/// The handle requests store their events through (cheap to clone).
#[derive(Debug, Clone)]
pub struct Persister {
    jobs: mpsc::Sender<Job>,
}

impl Persister {
    /// The most events one statement stores.
    pub const MAX_BATCH: usize = 256;
    /// Requests that may wait for the writer before senders wait for room.
    const QUEUE: usize = 4096;

    /// Starts the writer task on the current runtime, writing in turns with the other writers
    /// of `gate`. It stops when every handle is dropped.
    pub fn spawn(db: DatabaseConnection, gate: WriteGate) -> Self {
        let (jobs, rx) = mpsc::channel(Self::QUEUE);
        tokio::spawn(write_loop(db, gate, rx));
        Self { jobs }
    }

    /// Stores `events` (each once per key) and answers, per event, whether it is new.
    pub async fn persist(&self, events: Vec<NewEvent>) -> Result<Vec<Persisted>, PersistError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { events, reply }).await.map_err(|_| PersistError::Stopped)?;
        answer.await.map_err(|_| PersistError::Stopped)?
    }
}

async fn write_loop(db: DatabaseConnection, gate: WriteGate, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut size = jobs[0].events.len();
        while size < Persister::MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let events: Vec<NewEvent> = jobs.iter().flat_map(|j| j.events.iter().cloned()).collect();
        let result = {
            let _turn = gate.enter().await;
            let started = std::time::Instant::now();
            let result = write(&db, &events).await;
            metrics::histogram!("inbound_persist_seconds").record(started.elapsed().as_secs_f64());
            result
        };
        metrics::histogram!("inbound_persist_batch_size").record(events.len() as f64);
        let mut offset = 0;
        for job in jobs {
            let n = job.events.len();
            let answer = match &result {
                Ok(inserted) => Ok(job
                    .events
                    .iter()
                    .zip(&inserted[offset..offset + n])
                    .map(
                        |(event, new)| {
                            if *new { Persisted::New(event.stored()) } else { Persisted::Duplicate }
                        },
                    )
                    .collect()),
                Err(e) => Err(e.clone()),
            };
            offset += n;
            // The request may have gone away (client timeout); its events are stored regardless.
            let _ = job.reply.send(answer);
        }
    }
}

async fn write(db: &DatabaseConnection, events: &[NewEvent]) -> Result<Vec<bool>, PersistError> {
    let mut result = store::insert_batch(db, events).await;
    if let Err(e) = &result
        && is_transient(e)
    {
        tracing::warn!(error = %e, "storing inbound events failed; retrying once");
        result = store::insert_batch(db, events).await;
    }
    result.map_err(|e| {
        tracing::error!(error = %e, events = events.len(), "storing inbound events failed");
        PersistError::Database(e.to_string())
    })
}

fn is_transient(e: &DbErr) -> bool {
    let message = e.to_string();
    switchboard_core::db::is_unavailable(e)
        || message.contains("database is locked")
        || message.contains("deadlock detected")
}
