//! The in-process queue between acknowledging an event and processing it.
//!
//! A request stores its event (see [`crate::Persister`]), hands it to this queue and is
//! answered; a few worker tasks process what is queued. The queue is bounded: when it is full an
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
                    loop {
                        // Hold the lock only while taking the next event.
                        let next = rx.lock().await.recv().await;
                        let Some(event) = next else { break };
                        service.process(&event).await;
                    }
                })
            })
            .collect();
        (Self { queue }, Workers(handles))
    }

    /// Queues `event` for processing; false when the queue is full (the sweep will take it).
    pub fn enqueue(&self, event: StoredEvent) -> bool {
        match self.queue.try_send(event) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "processing queue full; the sweep will process the event");
                false
            }
        }
    }
}
