//! End-to-end tests against the real `overens` binary.
