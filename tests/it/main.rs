//! End-to-end tests against the real `overens` binary.
mod cli;
mod crash;
mod datadir;
mod properties;
mod schema;
mod serve;
mod stories;
