//! The store conformance suite against `EsdbStore`, through the real `eventstore` client
//! over gRPC on loopback, against the in-process test server (one per case).

mod support;

mod conformance {
    use super::support::Esdb;

    overens_store::conformance_suite!(Esdb::test_server());
}
