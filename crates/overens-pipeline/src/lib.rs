//! The application core around the pure domain: the append pipeline (verify → decide →
//! append → evolve), replay of a store with full verification, import and export of log
//! files, and the data directory.

mod datadir;
mod error;
mod limits;
mod pipeline;
mod replay;
mod shared;
mod stores;
mod transfer;

pub use datadir::{DataDir, DataDirError, LogKeyRotation};
pub use error::AppendError;
pub use limits::{AppendLimits, LimitExceeded};
pub use pipeline::{Pipeline, PipelineOptions, Snapshot};
pub use replay::{Progress, ReplayError, Replayed, replay_store};
pub use stores::AnyStore;
pub use transfer::{
    CheckedImport, ExportError, ImportError, ImportSummary, check_import, export, import,
};

pub use overens_log::{KeyChain, LogSigner, SignedCheckpoint, VerifierKey};
