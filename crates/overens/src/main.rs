//! `overens`: the command-line edge of Överens. It parses arguments and hands them to a command.

mod cli;
mod client;
mod commands;
mod data;
mod demo;
mod error;
mod keyfile;
mod logging;
mod progress;
mod render;
mod signing;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Keygen(args) => commands::keygen::run(args),
        Command::VerifyLog(args) => commands::verify_log::run(args),
        Command::Agreements(args) => commands::agreements::run(args),
        Command::InForce(args) => commands::in_force::run(args),
        Command::Versions(args) => commands::versions::run(args),
        Command::Signatures(args) => commands::signatures::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Timeline(args) => commands::timeline::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Replay(args) => commands::replay::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Submit(args) => commands::submit::run(args),
        Command::Sign(args) => commands::sign::run(args),
        Command::EnrollProof(args) => commands::enroll_proof::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::ExportBundle(args) => commands::export_bundle::run(args),
        Command::LogKey(command) => commands::log_key::run(command),
    };
    match result {
        Ok(output) => emit(&output),
        Err(error) => {
            // Nothing sensible is left to do if stderr is gone too.
            let _ = writeln!(io::stderr(), "overens: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// `print!` would panic on a closed pipe (`overens timeline … | head`).
fn emit(output: &str) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "overens: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
