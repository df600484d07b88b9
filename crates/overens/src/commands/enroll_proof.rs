//! `overens enroll-proof`: a new key's proof of possession, for its SignatoryEnrolled
//! event. The key's holder makes it; the registrar who enrolls the key puts it in the
//! payload, and never needs the secret key.

use overens_core::domain::enrollment_message;
use serde_json::json;

use crate::cli::EnrollProofArgs;
use crate::commands;
use crate::error::CliError;
use crate::keyfile::read_secret_key;

pub(crate) fn run(args: &EnrollProofArgs) -> Result<String, CliError> {
    let key = read_secret_key(&args.key)?;
    let public = key.public();
    let proof = key.sign(&enrollment_message(&args.party, &public));
    if args.json {
        commands::json(&json!({ "party": args.party, "key": public, "proof": proof }))
    } else {
        Ok(format!("{proof}\n"))
    }
}
