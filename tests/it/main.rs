//! End-to-end tests against the real `overens` binary.
mod bad_input;
mod browser;
mod cli;
mod crash;
mod datadir;
mod lifecycle;
mod limits;
mod properties;
mod race;
mod schema;
mod serve;
mod stories;
mod tamper_bundle;
