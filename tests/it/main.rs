//! End-to-end tests against the real `overens` binary.
mod cli;
mod properties;
mod schema;
mod stories;
