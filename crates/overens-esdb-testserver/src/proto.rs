//! The gRPC types and service stubs generated at build time from `proto/` (see build.rs).

#![allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls,
    rustdoc::invalid_html_tags
)]

pub mod event_store {
    pub mod client {
        tonic::include_proto!("event_store.client");

        pub mod streams {
            tonic::include_proto!("event_store.client.streams");
        }
    }
}

pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

/// `event_store.client` (shared.proto): `Empty`, `Uuid`, `StreamIdentifier`, ….
pub use event_store::client as shared;
/// `event_store.client.streams` (streams.proto): the `Streams` service and its messages.
pub use event_store::client::streams;
