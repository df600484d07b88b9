//! Tests of the audit bundle: round trips, named failures, the JSON Schema, and the worked
//! example of docs/audit.md.

mod common;
mod failures;
mod key_chain;
mod roundtrip;
mod schema;
mod worked_example;
