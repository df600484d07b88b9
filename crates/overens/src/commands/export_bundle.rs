//! `overens export-bundle`: the audit bundle of one agreement of a data directory, after
//! the store has been replayed and verified. The records and inclusion proofs come from
//! the store, the checkpoint is signed with the data directory's log key (DataDir's, as
//! `overens serve` uses it), and overens-audit checks every proof before it writes.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::path::Path;

use overens_audit::build_bundle;
use overens_core::{LogRecord, StreamId};
use overens_pipeline::{DataDir, ExportError};
use overens_store::{EventStore, SqliteStore, StoreError};
use rand_core::{OsRng, RngCore as _};

use crate::cli::ExportBundleArgs;
use crate::commands::export::Partial;
use crate::commands::find_agreement;
use crate::data::{self, data_error};
use crate::error::CliError;

pub(crate) fn run(args: &ExportBundleArgs) -> Result<String, CliError> {
    let dir = args.data.as_path();
    let runtime = data::runtime()?;
    let (text, records, size) = runtime.block_on(async {
        let (store, replayed) =
            data::open_verified(dir, &args.trust, data::Access::Exclusive, &mut |_, _| {}).await?;
        let state = &replayed.state;
        find_agreement(state, &args.agreement)?;
        let signer = DataDir::new(dir)
            .log_signer(None, os_seed)
            .map_err(data_error(dir))?;
        let size = state.len();
        // The replay recomputed the root from the verified leaves and found the stored
        // tree's equal to it.
        let checkpoint = signer
            .sign(size, replayed.root)
            .map_err(|e| data_error(dir)(overens_pipeline::DataDirError::LogKey(e.to_string())))?;
        let store_error = |e: StoreError| CliError::Export {
            dir: dir.to_owned(),
            error: Box::new(ExportError::Store(e)),
        };
        let mut records = Vec::new();
        for stream in [
            StreamId::Directory,
            StreamId::Agreement(args.agreement.clone()),
        ] {
            records.extend(read_stream(&store, &stream).await.map_err(store_error)?);
        }
        records.sort_by_key(|r| r.index);
        let mut proofs = HashMap::new();
        for record in &records {
            let proof = store
                .inclusion_proof(record.index, size)
                .await
                .map_err(store_error)?;
            proofs.insert(record.index, proof.hashes);
        }
        let bundle = build_bundle(
            state,
            &args.agreement,
            &records,
            &checkpoint.note_text,
            signer.verifier_key(),
            |index, _| proofs.remove(&index).ok_or("the store gave no proof"),
        )
        .map_err(|error| CliError::BuildBundle {
            dir: dir.to_owned(),
            error: Box::new(error),
        })?;
        // A rotated log's bundle carries its key chain, for auditors who pinned an earlier key.
        let chain = DataDir::new(dir)
            .log_key_chain(signer.verifier_key())
            .map_err(data_error(dir))?;
        let bundle = bundle
            .with_key_chain(&chain)
            .map_err(|error| CliError::BuildBundle {
                dir: dir.to_owned(),
                error: Box::new(error),
            })?;
        let text = bundle.to_json().map_err(CliError::Json)?;
        Ok::<_, CliError>((text, bundle.records.len(), size))
    })?;
    if args.out.as_os_str() == "-" {
        return Ok(text);
    }
    let partial = Partial::create(&args.out)?;
    (&partial.file)
        .write_all(text.as_bytes())
        .map_err(|source| write_error(&args.out, source))?;
    partial.finish()?;
    Ok(format!(
        "wrote the bundle of agreement {} ({records} records, checkpoint of size {size}) to {}\n",
        args.agreement,
        args.out.display()
    ))
}

fn write_error(path: &Path, source: io::Error) -> CliError {
    CliError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Every record of one stream, in order.
async fn read_stream(store: &SqliteStore, stream: &StreamId) -> Result<Vec<LogRecord>, StoreError> {
    let mut out = Vec::new();
    loop {
        let batch = store.read_stream(stream, out.len() as u64, 4096).await?;
        if batch.is_empty() {
            return Ok(out);
        }
        for stored in batch {
            out.push(stored.to_log_record()?);
        }
    }
}

/// A new log key's seed from the operating system, if the directory has none yet.
fn os_seed() -> Result<[u8; 32], String> {
    let mut seed = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| format!("cannot gather randomness from the operating system: {e}"))?;
    Ok(seed)
}
