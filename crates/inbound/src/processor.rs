//! The in-process queue between acknowledging an event and processing it.
//!
//! A request stores its event (see [`crate::Persister`]), hands it to this queue and is
//! answered; a few worker lanes process what is queued, each taking everything waiting for it
//! (up to [`InboundService::BATCH`]) and settling it in one transaction. A workspace's messages
//! share a lane, so batches seldom wait for each other's locks on its month counters. The queue
//! is bounded: when it is full an
//! event stays `received` in the database, where the periodic sweep
//! ([`crate::InboundService::process_pending`]) finds it — as it finds the events of a process
//! that stopped before processing them.

use tokio::sync::mpsc;
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
    /// Starts `workers` lanes draining a queue of `capacity` events: a dispatcher hands each
    /// event to its lane ([`InboundService::lane`]: a workspace's messages share one), and each
    /// lane's worker takes what is queued for it (up to [`InboundService::BATCH`]) — under load a
    /// batch fills up by itself, when idle each event goes alone and at once.
    pub fn spawn(service: InboundService, workers: usize, capacity: usize) -> (Self, Workers) {
        let lanes = workers.max(1);
        let (queue, mut rx) = mpsc::channel::<StoredEvent>(capacity.max(1));
        let mut handles = Vec::with_capacity(lanes + 1);
        let mut senders = Vec::with_capacity(lanes);
        for _ in 0..lanes {
            let (tx, mut lane) = mpsc::channel::<StoredEvent>(InboundService::BATCH * 2);
            senders.push(tx);
            let service = service.clone();
            handles.push(tokio::spawn(async move {
                let mut batch = Vec::with_capacity(InboundService::BATCH);
                while lane.recv_many(&mut batch, InboundService::BATCH).await > 0 {
                    let started = std::time::Instant::now();
                    service.process_many(&batch).await;
                    metrics::histogram!("inbound_process_seconds").record(started.elapsed().as_secs_f64());
                    metrics::histogram!("inbound_process_batch_size").record(batch.len() as f64);
                    batch.clear();
                }
            }));
        }
        handles.push(tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let lane = service.lane(&event, lanes);
                if senders[lane].send(event).await.is_err() {
                    break;
                }
            }
        }));
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
