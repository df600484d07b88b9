//! End-to-end tests against the real `overens` binary.
mod bad_input;
mod browser;
mod cli;
mod crash;
mod crash_http;
mod datadir;
mod esdb;
mod lifecycle;
mod limits;
mod log_key;
mod properties;
mod race;
mod race_campaign;
mod schema;
mod serve;
mod stories;
mod tamper_bundle;
