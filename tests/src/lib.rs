//! Fixtures shared by the end-to-end tests.

mod binary;
pub mod campaign;
pub mod log_audit;
pub mod server;
mod tiny_log;

pub use binary::{Run, overens, overens_bin, overens_with_env};
pub use server::{Reply, Server};
pub use tiny_log::{LogBuilder, TINY_AGREEMENT, TinyLog, tiny_log};

pub mod examples;

pub use examples::{
    log_path as example_log, registrar_path as example_registrar, repo_root as workspace_root,
};
