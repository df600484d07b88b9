//! `overens export`: a data directory's log (or one stream of it) as a log file, after the
//! store has been replayed and verified. Import then export gives the same bytes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use overens_pipeline::{ExportError, export};

use crate::cli::ExportArgs;
use crate::data;
use crate::error::CliError;

pub(crate) fn run(args: &ExportArgs) -> Result<String, CliError> {
    let dir = args.data.as_path();
    let to_stdout = args.out.as_os_str() == "-";
    let runtime = data::runtime()?;
    let written = runtime.block_on(async {
        // Read-only: a backup can be taken beside a running server (the log as committed
        // when the export started).
        let (store, replayed) = data::open_verified_any(
            dir,
            &args.trust,
            args.store.url(),
            data::Access::ReadOnly,
            &mut |_, _| {},
        )
        .await?;
        if let Some(stream) = &args.stream
            && replayed.state.head(stream).next_seq == 0
        {
            return Err(CliError::UnknownStream {
                dir: dir.to_owned(),
                stream: stream.clone(),
            });
        }
        let export_error = |error| CliError::Export {
            dir: dir.to_owned(),
            error: Box::new(error),
        };
        if to_stdout {
            let mut out = BufWriter::new(io::stdout());
            match export(&store, args.stream.as_ref(), &mut out).await {
                // `overens export --out - | head` is not a failure.
                Err(ExportError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
                result => result.map_err(export_error),
            }
        } else {
            let partial = Partial::create(&args.out)?;
            let mut out = BufWriter::new(&partial.file);
            let written = export(&store, args.stream.as_ref(), &mut out)
                .await
                .map_err(export_error)?;
            drop(out);
            partial.finish()?;
            Ok(written)
        }
    })?;
    if to_stdout {
        Ok(String::new())
    } else {
        Ok(format!(
            "exported {written} {} to {}\n",
            if written == 1 { "record" } else { "records" },
            args.out.display()
        ))
    }
}

/// The export is written beside its destination and renamed over it only when complete, so
/// a failed export never leaves a truncated log file where a whole one is expected.
pub(crate) struct Partial {
    pub(crate) file: File,
    path: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Partial {
    pub(crate) fn create(target: &Path) -> Result<Self, CliError> {
        let name = target.file_name().ok_or_else(|| CliError::Write {
            path: target.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        })?;
        let mut partial_name = std::ffi::OsString::from(".");
        partial_name.push(name);
        partial_name.push(format!(".partial-{}", std::process::id()));
        let path = target.with_file_name(partial_name);
        let file = File::create(&path).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Partial {
            file,
            path,
            target: target.to_owned(),
            done: false,
        })
    }

    pub(crate) fn finish(mut self) -> Result<(), CliError> {
        let write_error = |source| CliError::Write {
            path: self.target.clone(),
            source,
        };
        (&self.file).flush().map_err(write_error)?;
        self.file.sync_all().map_err(write_error)?;
        fs::rename(&self.path, &self.target).map_err(write_error)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}
