//! The client to the server, renewed when it is beyond repair, and which of its errors may
//! pass with a retry.
//!
//! The 4.0.0 client's connection task gives up for good when it cannot reach a node during
//! its discovery attempts (every later call answers `ConnectionClosed`), so a lost server
//! would otherwise need a process restart: the store makes a new client instead.

use std::sync::{Arc, Mutex};

use eventstore::{Client, ClientSettings};
use overens_store::StoreError;

#[derive(Clone)]
pub(crate) struct Connection {
    settings: ClientSettings,
    runtime: tokio::runtime::Handle,
    client: Arc<Mutex<Arc<Client>>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("hosts", &self.settings.hosts())
            .finish_non_exhaustive()
    }
}

fn new_client(
    runtime: &tokio::runtime::Handle,
    settings: &ClientSettings,
) -> Result<Client, StoreError> {
    Client::with_runtime_handle(runtime.clone(), settings.clone())
        .map_err(|e| StoreError::Storage(format!("EventStoreDB client: {e}")))
}

impl Connection {
    /// Must be called inside a tokio runtime: the client's connection task runs on it.
    pub(crate) fn new(settings: ClientSettings) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::current();
        let client = new_client(&runtime, &settings)?;
        Ok(Connection {
            settings,
            runtime,
            client: Arc::new(Mutex::new(Arc::new(client))),
        })
    }

    pub(crate) fn client(&self) -> Arc<Client> {
        match self.client.lock() {
            Ok(client) => client.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// After `error` from `failed`, replaces the client with a new one if the error says
    /// the connection is gone (and no other caller has replaced it already).
    pub(crate) fn renew_after(&self, failed: &Arc<Client>, error: &eventstore::Error) {
        if !connection_lost(error) {
            return;
        }
        let Ok(mut client) = self.client.lock() else {
            return;
        };
        if Arc::ptr_eq(&client, failed) {
            match new_client(&self.runtime, &self.settings) {
                Ok(fresh) => {
                    tracing::info!(error = %error, "EventStoreDB connection lost: reconnecting");
                    *client = Arc::new(fresh);
                }
                Err(e) => tracing::warn!(error = %e, "could not make a new EventStoreDB client"),
            }
        }
    }
}

/// The connection is gone or the node is out of reach.
fn connection_lost(error: &eventstore::Error) -> bool {
    use eventstore::Error as E;
    matches!(
        error,
        E::ConnectionClosed
            | E::GrpcConnectionError(_)
            | E::ServerError(_)
            | E::DeadlineExceeded
            | E::NotLeaderException(_)
    ) || matches!(
        error,
        E::Grpc { code, .. } if matches!(
            code,
            tonic_code::Unavailable | tonic_code::Cancelled | tonic_code::Unknown
        )
    )
}

/// An error that may pass when the call is tried again.
pub(crate) fn transient(error: &eventstore::Error) -> bool {
    use eventstore::Error as E;
    connection_lost(error)
        || matches!(
            error,
            E::Grpc { code, .. } if matches!(code, tonic_code::Aborted | tonic_code::ResourceExhausted)
        )
}

/// The gRPC codes the client passes through unmapped (`eventstore::Error::Grpc`).
use tonic::Code as tonic_code;
