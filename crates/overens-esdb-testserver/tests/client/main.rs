//! Black-box tests of the test server through the real `eventstore` 4.0.0 client over loopback
//! (and, where that client cannot send a message, through a raw gRPC client).

mod append;
mod faults;
mod read;
mod subscribe;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use eventstore::{Client, EventData};
use overens_esdb_testserver::TestServer;
use uuid::Uuid;

/// Long enough for a loaded CI machine, short enough that a hang fails the test.
const PATIENCE: Duration = Duration::from_secs(10);

fn client(server: &TestServer) -> Client {
    let settings = server
        .connection_string()
        .parse()
        .expect("the server's connection string parses");
    Client::new(settings).expect("client builds")
}

/// A binary event with a fixed id, for idempotency and round-trip checks.
fn event(event_type: &str, id: u128, data: &'static [u8]) -> EventData {
    EventData::binary(event_type, Bytes::from_static(data)).id(Uuid::from_u128(id))
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}
