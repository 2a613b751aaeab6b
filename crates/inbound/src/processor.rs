//! The in-process queue between acknowledging an event and processing it.
//!
//! A request stores its event (see [`crate::Persister`]), hands it to this queue and is
//! answered; a few worker tasks process what is queued, each taking everything waiting (up to
//! [`InboundService::BATCH`]) and settling it in one transaction. The queue is bounded: when it is full an
//! event stays `received` in the database, where the periodic sweep
//! ([`crate::InboundService::process_pending`]) finds it — as it finds the events of a process
//! that stopped before processing them.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::model::StoredEvent;
use crate::service::InboundService;

/// Hands stored events to the workers (cheap to clone).
#[derive(Debug, Clone)]
pub struct Processor {
    queue: mpsc::Sender<StoredEvent>,
}

/// The worker tasks; they end once every [`Processor`] handle is dropped and the queue is empty.
#[derive(Debug)]
pub struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Waits for the workers to finish what is queued.
    pub async fn join(self) {
        for worker in self.0 {
            let _ = worker.await;
        }
    }
}

impl Processor {
    /// Starts `workers` tasks draining a queue of `capacity` events.
    pub fn spawn(service: InboundService, workers: usize, capacity: usize) -> (Self, Workers) {
        let (queue, rx) = mpsc::channel::<StoredEvent>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let handles = (0..workers.max(1))
            .map(|_| {
                let rx = rx.clone();
                let service = service.clone();
                tokio::spawn(async move {
                    let mut batch = Vec::with_capacity(InboundService::BATCH);
                    loop {
                        // Take what is queued (at least one event, waiting for it), holding the
                        // lock only while taking: under load a batch fills up by itself, when
                        // idle each event goes alone and at once.
                        let taken = rx.lock().await.recv_many(&mut batch, InboundService::BATCH).await;
                        if taken == 0 {
                            break;
                        }
                        service.process_many(&batch).await;
                        batch.clear();
                    }
                })
            })
            .collect();
        (Self { queue }, Workers(handles))
    }

    /// Queues `event` for processing, waiting up to [`Processor::ENQUEUE_WAIT`] for room; false
    /// when the queue stayed full (the sweep will take the event). The wait is backpressure: under
    /// sustained overload answers slow down to the rate events are processed, instead of events
    /// piling up for the sweep (which takes them only after its grace period).
    pub async fn enqueue(&self, event: StoredEvent) -> bool {
        match tokio::time::timeout(Self::ENQUEUE_WAIT, self.queue.send(event)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) | Err(_) => {
                tracing::debug!("processing queue full; the sweep will process the event");
                false
            }
        }
    }

    /// How long a request waits for room in a full queue before leaving its event to the sweep
    /// (the event is already stored; providers wait 10–15 s for an answer).
    pub const ENQUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
}
