//! The store's follower: one catch-up subscription to `$all` (filtered to the prefix) that
//! hands every event, in order, to the indexer, and resubscribes from the last event it
//! handed over when the subscription breaks; the indexer commits them to the cache and
//! publishes the new state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use eventstore::{StreamPosition, SubscribeToAllOptions, SubscriptionEvent, SubscriptionFilter};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::cache::State;
use crate::connection::Connection;
use crate::index::Indexer;
use crate::options::Deadlines;
use crate::wire::Incoming;
use overens_store::StoreError;

/// The index as the store's readers and writers see it.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: RwLock<State>,
    /// Bumped after every commit of the indexer (and when it fails): appends wait on it for
    /// their events.
    pub progress: watch::Sender<u64>,
    /// The committed length of the log.
    pub len: watch::Sender<u64>,
    /// The subscription has caught up with `$all` once (live since).
    pub caught_up: watch::Sender<bool>,
    /// Why the indexer stopped, if it did.
    pub failure: Mutex<Option<String>>,
    /// How many events of `$all` the follower has received since the store connected.
    pub followed: AtomicU64,
}

impl Shared {
    pub(crate) fn new(state: State) -> Self {
        let len = state.len;
        Shared {
            state: RwLock::new(state),
            progress: watch::Sender::new(0),
            len: watch::Sender::new(len),
            caught_up: watch::Sender::new(false),
            failure: Mutex::new(None),
            followed: AtomicU64::new(0),
        }
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        match self.state.read() {
            Ok(state) => f(&state),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }
}

enum Feed {
    Event(Box<Incoming>),
    CaughtUp,
}

/// Starts the subscription and the indexer; both run until aborted.
pub(crate) fn start(
    connection: Connection,
    indexer: Indexer,
    shared: Arc<Shared>,
    deadlines: Deadlines,
) -> [JoinHandle<()>; 2] {
    let (tx, rx) = mpsc::channel(4096);
    let from = indexer.state.last.as_ref().map(|last| last.position);
    let prefix = indexer.prefix.clone();
    let pump = tokio::spawn(subscribe(connection, prefix, from, tx, deadlines));
    let index = tokio::spawn(index(indexer, rx, shared));
    [pump, index]
}

async fn subscribe(
    connection: Connection,
    prefix: String,
    mut from: Option<eventstore::Position>,
    tx: mpsc::Sender<Feed>,
    deadlines: Deadlines,
) {
    let mut failures = 0u32;
    loop {
        let client = connection.client();
        let options = SubscribeToAllOptions::default()
            .position(from.map_or(StreamPosition::Start, StreamPosition::Position))
            .filter(SubscriptionFilter::on_stream_name().add_prefix(&prefix));
        let mut subscription = client.subscribe_to_all(&options).await;
        let error = loop {
            match subscription.next_subscription_event().await {
                Ok(SubscriptionEvent::EventAppeared(event)) => {
                    failures = 0;
                    let recorded = event.get_original_event();
                    from = Some(recorded.position);
                    if tx
                        .send(Feed::Event(Box::new(Incoming::from(recorded))))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(SubscriptionEvent::CaughtUp) => {
                    failures = 0;
                    if tx.send(Feed::CaughtUp).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => break error,
            }
        };
        failures = failures.saturating_add(1);
        let pause = deadlines.pause(failures);
        tracing::warn!(
            %error,
            from = ?from,
            "the subscription to $all broke; resubscribing in {pause:?}"
        );
        connection.renew_after(&client, &error);
        tokio::time::sleep(pause).await;
    }
}

/// The most events one commit of the indexer takes.
const MAX_COMMIT: usize = 2048;

async fn index(indexer: Indexer, mut rx: mpsc::Receiver<Feed>, shared: Arc<Shared>) {
    let mut indexer = Some(indexer);
    while let Some(first) = rx.recv().await {
        let mut feed = vec![first];
        while feed.len() < MAX_COMMIT {
            match rx.try_recv() {
                Ok(next) => feed.push(next),
                Err(_) => break,
            }
        }
        let caught_up = feed.iter().any(|f| matches!(f, Feed::CaughtUp));
        let events: Vec<Incoming> = feed
            .into_iter()
            .filter_map(|f| match f {
                Feed::Event(event) => Some(*event),
                Feed::CaughtUp => None,
            })
            .collect();
        if !events.is_empty() {
            let count = events.len() as u64;
            let Some(mut current) = indexer.take() else {
                return;
            };
            let outcome = tokio::task::spawn_blocking(move || {
                let delta = current.apply(&events);
                (current, delta)
            })
            .await;
            let delta = match outcome {
                Ok((current, Ok(delta))) => {
                    indexer = Some(current);
                    delta
                }
                Ok((_, Err(error))) => return fail(&shared, &error.to_string()),
                Err(error) => return fail(&shared, &format!("indexer task: {error}")),
            };
            let len = delta.len;
            shared.followed.fetch_add(count, Ordering::Relaxed);
            match shared.state.write() {
                Ok(mut state) => delta.apply(&mut state),
                Err(_) => return fail(&shared, "the index state lock is poisoned"),
            }
            shared.len.send_if_modified(|known| {
                let grew = *known != len;
                *known = len;
                grew
            });
        }
        if caught_up {
            shared.caught_up.send_replace(true);
        }
        shared.progress.send_modify(|n| *n += 1);
    }
}

/// The cache could not be written: the indexer stops, appends are refused, reads go on
/// serving what was committed. A restart reads the cache and the server again.
fn fail(shared: &Shared, reason: &str) {
    tracing::error!("the EventStoreDB index stopped: {reason}");
    if let Ok(mut failure) = shared.failure.lock() {
        *failure = Some(reason.to_owned());
    }
    shared.progress.send_modify(|n| *n += 1);
}

/// Waits until `done` holds of the state, the indexer fails, or `deadline` passes.
pub(crate) async fn wait_until(
    shared: &Shared,
    deadline: Duration,
    what: impl Fn() -> String,
    done: impl Fn(&State) -> bool,
) -> Result<(), StoreError> {
    let mut progress = shared.progress.subscribe();
    let wait = async {
        loop {
            progress.borrow_and_update();
            if let Some(reason) = shared.failure() {
                return Err(StoreError::Storage(format!(
                    "the EventStoreDB index stopped: {reason}"
                )));
            }
            if shared.read(&done) {
                return Ok(());
            }
            if progress.changed().await.is_err() {
                return Err(StoreError::Failed);
            }
        }
    };
    match tokio::time::timeout(deadline, wait).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Storage(format!(
            "the store's follower of $all did not reach {} within {deadline:?} (is the \
             subscription to EventStoreDB broken?)",
            what()
        ))),
    }
}
