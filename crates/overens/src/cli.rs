//! The command line: clap definitions of every command and its arguments.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgGroup, Args, Parser, Subcommand};
use overens_core::{AgreementId, Date, Digest32, PartyId, StreamId, Timestamp};
use overens_pipeline::AppendLimits;
use overens_server::Limits;

/// Shown under every `--help`: scripts branch on these.
pub(crate) const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  the log failed verification (a record is malformed, altered, missing, repeated, out of
     order, badly signed, or breaks a rule), or a data directory's store did (a row was
     altered, deleted or re-timed behind the store's back); the message names the first
     bad record. An import refused for any of these reasons changes nothing.
  2  bad usage or input: unknown option, missing or malformed registrar key, registrar keys
     other than a data directory's, unreadable or unwritable file, a data directory without
     a store or in use by another process, unknown agreement, version or stream, a key file
     that already exists";

/// `overens submit` answers for a server too.
pub(crate) const SUBMIT_EXIT_CODES: &str = "\
Exit status:
  0  the event is in the log (appended now, or, for the same envelope again, before)
  1  the server refused the event (its problem document is printed: status, type, rule,
     detail); nothing was appended
  2  bad usage or input, checked before anything is sent: unknown option or event type, a
     payload that is not that type's, a key file that is unreadable, readable by others or
     not a secret key; or the server could not be reached or gave an answer that is not
     Överens'";

/// What `overens serve` exits with.
pub(crate) const SERVE_EXIT_CODES: &str = "\
Exit status:
  0  stopped by SIGINT or SIGTERM, after the requests in flight were answered
  1  the data directory's log does not verify (the message names the first bad record);
     nothing was served
  2  bad usage, a data directory without a store (see --init) or in use by another
     process, registrar keys other than the directory's, or the address cannot be bound

Environment:
  OVERENS_LOG  what to log to stderr, as a tracing filter (default: info, and one line per
               request: info,tower_http::trace::make_span=debug,tower_http::trace::on_response=debug)";

/// What `overens verify` exits with.
pub(crate) const VERIFY_EXIT_CODES: &str = "\
Exit status:
  0  every check holds (the report says which keys were given by you and which were taken
     from the bundle: a key taken from the bundle proves only the bundle's consistency)
  1  a check failed: the bundle was altered, is incomplete or out of order, or does not
     match the log key, the registrar keys or your older checkpoint. The message names the
     check (format, trust, checkpoint, consistency, record, order, signature, chain, rule,
     proof, claim), where (a field; records[i] with its log index, stream and seq;
     proofs[i]; claims.<path>) and what is wrong
  2  bad usage or unusable input: unknown option, a file that cannot be read, a --log-key
     or --registrar that is not a key, an old checkpoint that is not a signed note, a
     consistency proof that is not one or cannot be fetched, a bundle format this version
     of overens does not know";

/// Överens: an event-sourced, ed25519-signed audit log of agreement revisions.
///
/// Every log command replays the whole log (a log file, or a data directory's store) and
/// verifies every record (canonical form, order, hash chain, signature, rules) against the
/// registrar keys you trust before it answers anything.
#[derive(Debug, Parser)]
#[command(name = "overens", version, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new ed25519 key: FILE holds the secret (mode 0600), FILE.pub the public key.
    #[command(after_help = EXIT_CODES)]
    Keygen(KeygenArgs),
    /// Replay a log file (or a data directory), verifying every record; print a one-line
    /// summary.
    #[command(after_help = EXIT_CODES)]
    VerifyLog(VerifyLogArgs),
    /// List the agreements of a log with their status.
    #[command(after_help = EXIT_CODES)]
    Agreements(AgreementsArgs),
    /// Which version of an agreement was in force on a date, as known at an instant.
    #[command(after_help = EXIT_CODES)]
    InForce(InForceArgs),
    /// Every version of an agreement: status, content hash, proposal, signatures, in force.
    #[command(after_help = EXIT_CODES)]
    Versions(AgreementArgs),
    /// The signature ledger: who signed which version and content hash, when and how.
    #[command(after_help = EXIT_CODES)]
    Signatures(AgreementArgs),
    /// What changed between two versions: parties, sections (word diff), forums.
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Every event of an agreement as a readable line.
    #[command(after_help = EXIT_CODES)]
    Timeline(AgreementArgs),
    /// Restore log files into a data directory, keeping their indexes and recorded times.
    ///
    /// For restore and migration: every record is verified first, and a refused import
    /// changes nothing. A store that already holds records takes only a file that repeats
    /// them byte for byte and continues them exactly. The registrar keys given on the first
    /// import are recorded in DIR/registrars.txt; later commands may omit --registrar, and
    /// other keys are refused.
    #[command(after_help = EXIT_CODES)]
    Import(ImportArgs),
    /// Write a data directory's log (or one stream of it) as a log file.
    ///
    /// The store is replayed and verified first. Import then export gives the same bytes.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Rebuild every projection from a data directory's store, verifying every signature,
    /// chain link and rule; print a one-line summary.
    #[command(after_help = EXIT_CODES)]
    Replay(ReplayArgs),
    /// Serve the HTTP API of a data directory (or of the examples, with --demo).
    ///
    /// The store is replayed and verified in full first; then signed appends are taken
    /// (verified, decided in log order, made durable, then answered) and the projections
    /// are served. The server holds no party key: every event comes signed by its party.
    /// Prints `listening on http://ADDR` once it accepts connections; stops gracefully on
    /// SIGINT or SIGTERM.
    #[command(after_help = SERVE_EXIT_CODES)]
    Serve(ServeArgs),
    /// Sign an event with your own key and append it on a server.
    ///
    /// Fetches the stream's head, builds the envelope (a fresh UUID v7 id, seq and prev
    /// from the head, `at` = now), signs it here and posts it. The payload is checked
    /// against its event type before anything is sent. If the stream moved on in between,
    /// the event is signed again against the new head. With --envelope, posts an envelope
    /// signed earlier (see `overens sign`); posting the same envelope twice appends it once.
    #[command(after_help = SUBMIT_EXIT_CODES)]
    Submit(SubmitArgs),
    /// Sign an event offline, for a stream position you were given, into an envelope file.
    ///
    /// Anyone can post the file later with `overens submit --envelope`: it is authenticated
    /// by its signature alone. Post it within the server's clock-skew limit (5 minutes by
    /// default) of its `at`.
    #[command(after_help = EXIT_CODES)]
    Sign(SignArgs),
    /// Print a new key's proof of possession, the `proof` of its SignatoryEnrolled event.
    ///
    /// The key's signature over `overens/enroll/v1`, the party and the key: the key's holder
    /// makes it and hands it to the registrar, who never needs the secret key.
    #[command(after_help = EXIT_CODES)]
    EnrollProof(EnrollProofArgs),
    /// Verify an audit bundle offline, from its records alone.
    ///
    /// Recomputes everything: each record's canonical bytes, every signature, every chain
    /// link from seq 0, every domain rule (by replaying the directory and the agreement),
    /// every inclusion proof against the checkpoint, the checkpoint's signature under the
    /// log key, and the server's claims (versions, signatures, in-force periods). With
    /// --checkpoint, also proves that the log only grew since a checkpoint you kept. Prints
    /// who agreed to what and when, and each version's in-force period. See docs/audit.md.
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
    /// Write the audit bundle of one agreement of a data directory.
    ///
    /// The store is replayed and verified first. The bundle holds the directory's and the
    /// agreement's records, a checkpoint of the whole log signed with the log's key
    /// (DIR/log.key, made on first use as `overens serve` does), an inclusion proof per
    /// record and the computed versions, signatures and in-force periods. Check it with
    /// `overens verify`.
    #[command(after_help = EXIT_CODES)]
    ExportBundle(ExportBundleArgs),
    /// The log's own key, which signs its checkpoints: rotate it.
    #[command(subcommand)]
    LogKey(LogKeyCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum LogKeyCommand {
    /// Replace the log's key with a new one, by a transition note both keys sign.
    ///
    /// The server must be stopped (the store is held while rotating). The note says that
    /// from the log's current size the new key signs its checkpoints; it is written to
    /// DIR/log-keys/, served at /v1/log/keys and put in every audit bundle, so verifiers who
    /// pinned the old key follow it. The old key is deleted. Prints the new verifier key
    /// and the note. Not for a compromised key: see docs/operations.md.
    #[command(after_help = EXIT_CODES)]
    Rotate(LogKeyRotateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LogKeyRotateArgs {
    /// The data directory (stopped: no server may hold it).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the secret key; the public key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Overwrite FILE and FILE.pub if they exist.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The registrar keys a log is verified against.
#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// A registrar's public key (base64url), or a file holding one key per line ('#' starts
    /// a comment). Registrar keys are the trust anchors: give every one the log was
    /// written with. Repeatable. Required with --log; with a data directory, the keys it
    /// records are used, and keys given must be the same.
    #[arg(
        long = "registrar",
        value_name = "KEY|FILE",
        env = "OVERENS_REGISTRAR",
        required = false
    )]
    pub(crate) registrars: Vec<String>,
}

/// Where a log is read from: exactly one of a log file and a data directory.
#[derive(Debug, Args)]
#[group(id = "source", required = true, multiple = false)]
pub(crate) struct SourceArgs {
    /// The log file: JSON Lines of canonical log records.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// A data directory (see `overens import`); --registrar may be omitted, the keys it
    /// records are used.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
}

/// Where a log is, resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    Log(&'a Path),
    Data(&'a Path),
}

impl SourceArgs {
    pub(crate) fn source(&self) -> Option<Source<'_>> {
        match (&self.log, &self.data) {
            (Some(log), None) => Some(Source::Log(log)),
            (None, Some(data)) => Some(Source::Data(data)),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("verify_source").args(["file", "log", "data"]).required(true).multiple(false)
))]
pub(crate) struct VerifyLogArgs {
    /// The log file: JSON Lines of canonical log records.
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// The log file, as the other commands take it.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// A data directory (see `overens import`) instead of a log file; --registrar may be
    /// omitted, the keys it records are used.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

impl VerifyLogArgs {
    pub(crate) fn source(&self) -> Option<Source<'_>> {
        match (&self.file, &self.log, &self.data) {
            (Some(file), None, None) | (None, Some(file), None) => Some(Source::Log(file)),
            (None, None, Some(data)) => Some(Source::Data(data)),
            _ => None,
        }
    }
}

/// `--store`: the SQLite file in the data directory, or a cluster.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Where the log lives: the SQLite file in --data (the default), or an EventStoreDB /
    /// KurrentDB cluster, `esdb://[USER:PASSWORD@]HOST:2113[,HOST…]?tls=true|false` (several
    /// servers may share one cluster; --data then holds the trust anchors, the log key and
    /// this server's index cache). Prefer the environment variable for a password.
    #[arg(
        long,
        value_name = "URL",
        env = "OVERENS_STORE",
        hide_env_values = true
    )]
    pub(crate) store: Option<String>,
}

impl StoreArgs {
    pub(crate) fn url(&self) -> Option<&str> {
        self.store.as_deref()
    }
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The data directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// The log files, in order; together they continue the stored log.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// Only this stream's records (`directory` or `agreement/<ID>`), with their global
    /// indexes.
    #[arg(long, value_name = "STREAM")]
    pub(crate) stream: Option<StreamId>,
    /// Where to write the log file; `-` for standard output. A file is replaced only once
    /// the whole export is written.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("serve_source").args(["data", "demo"]).required(true).multiple(true)))]
pub(crate) struct ServeArgs {
    /// The data directory to serve (see `overens import`); with --demo, where to put the
    /// demo's log instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Serve the two example agreements (events/examples/log.jsonl) from a fresh temporary
    /// data directory, deleted on exit. They are signed with TEST keys whose secrets are
    /// public: a demo proves nothing.
    #[arg(long)]
    pub(crate) demo: bool,
    /// Start a new, empty log if DIR holds no store yet (needs --registrar). Without it a
    /// missing store is an error, so a mistyped path never serves an empty log.
    #[arg(long, conflicts_with = "demo", requires = "data")]
    pub(crate) init: bool,
    /// The address to listen on; port 0 picks a free one (the line `listening on
    /// http://ADDR` tells which).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Require `Authorization: Bearer TOKEN` for every read (writes are authenticated by
    /// their signatures). Prefer the environment variable: arguments are visible to other
    /// users of the machine.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OVERENS_READ_TOKEN",
        hide_env_values = true
    )]
    pub(crate) read_token: Option<String>,
    /// How far an event's `at` (the signer's clock) may be from this server's clock.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub(crate) max_skew_seconds: u32,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body)]
    pub(crate) max_body: usize,
    /// The most events in one append request.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_batch)]
    pub(crate) max_batch: usize,
    /// The deepest nesting of arrays and objects in a request body.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_json_depth)]
    pub(crate) max_json_depth: usize,
    /// The longest string in an event's payload (section text, names…), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = AppendLimits::default().max_string_bytes)]
    pub(crate) max_string_bytes: usize,
    /// The most parties one agreement may have.
    #[arg(long, value_name = "N", default_value_t = AppendLimits::default().max_parties)]
    pub(crate) max_parties: usize,
    /// The most sections in one agreement's draft.
    #[arg(long, value_name = "N", default_value_t = AppendLimits::default().max_sections)]
    pub(crate) max_sections: usize,
    /// The most forums in one agreement's draft.
    #[arg(long, value_name = "N", default_value_t = AppendLimits::default().max_forums)]
    pub(crate) max_forums: usize,
    /// The most seats (representatives) in one forum.
    #[arg(long, value_name = "N", default_value_t = AppendLimits::default().max_representatives)]
    pub(crate) max_representatives: usize,
    /// How many requests are served at once; more get 429 at once (never queued).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_concurrent)]
    pub(crate) max_concurrent: usize,
    /// How long one request may take before it is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().request_timeout.as_secs())]
    pub(crate) request_timeout_seconds: u64,
    /// The log's name: the first line of every signed checkpoint and the name of the log's
    /// key, e.g. `example.org/agreements` (no spaces or `+`). Recorded in DIR/log.pub on
    /// first start (default `overens/<directory name>`); a different name later is refused.
    #[arg(long, value_name = "NAME")]
    pub(crate) origin: Option<String>,
}

/// The event to sign: its stream, type and payload, and the signer's key.
#[derive(Debug, Args)]
pub(crate) struct EventArgs {
    /// Your secret key file (from `overens keygen`; mode 0600). It is read here and never
    /// sent anywhere.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The stream: `directory` or `agreement/<ID>`.
    #[arg(long, value_name = "STREAM")]
    pub(crate) stream: StreamId,
    /// The event type, e.g. RevisionSigned (see docs/events.md).
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) kind: String,
    /// A JSON file holding the event's payload object, e.g.
    /// {"version": 2, "content_hash": "…", "party": "…"} for RevisionSigned.
    #[arg(long, value_name = "FILE.json")]
    pub(crate) payload: PathBuf,
    /// The signer's clock (RFC 3339; default now). The server refuses an `at` more than
    /// its --max-skew-seconds from its own clock: past dates belong in payloads.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub(crate) at: Option<Timestamp>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").args(["envelope", "payload"]).required(true).multiple(false)))]
pub(crate) struct SubmitArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "OVERENS_SERVER")]
    pub(crate) server: String,
    /// Post this signed envelope (from `overens sign`) as it is.
    #[arg(long, value_name = "ENVELOPE.json", conflicts_with_all = ["key", "stream", "kind", "at"])]
    pub(crate) envelope: Option<PathBuf>,
    /// Your secret key file (from `overens keygen`; mode 0600). It is read here and never
    /// sent anywhere.
    #[arg(long, value_name = "FILE", requires_all = ["stream", "kind", "payload"])]
    pub(crate) key: Option<PathBuf>,
    /// The stream: `directory` or `agreement/<ID>`.
    #[arg(long, value_name = "STREAM", requires = "payload")]
    pub(crate) stream: Option<StreamId>,
    /// The event type, e.g. RevisionSigned (see docs/events.md).
    #[arg(long = "type", value_name = "TYPE", requires = "payload")]
    pub(crate) kind: Option<String>,
    /// A JSON file holding the event's payload object, e.g.
    /// {"version": 2, "content_hash": "…", "party": "…"} for RevisionSigned.
    #[arg(long, value_name = "FILE.json", requires_all = ["key", "stream", "kind"])]
    pub(crate) payload: Option<PathBuf>,
    /// The signer's clock (RFC 3339; default now). The server refuses an `at` more than
    /// its --max-skew-seconds from its own clock: past dates belong in payloads.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant, requires = "payload")]
    pub(crate) at: Option<Timestamp>,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) event: EventArgs,
    /// The event's position in its stream: the `next_seq` of the stream's head.
    #[arg(long, value_name = "N")]
    pub(crate) seq: u64,
    /// The hex SHA-256 of the stream's last event (the head's `prev`; 64 zeros for seq 0).
    #[arg(long, value_name = "HEX")]
    pub(crate) prev: Digest32,
    /// Where to write the signed envelope (canonical JSON, one line); `-` for standard
    /// output.
    #[arg(long, value_name = "ENVELOPE.json")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EnrollProofArgs {
    /// The new signatory's secret key file (from `overens keygen`).
    #[arg(long, value_name = "NEWKEY.key")]
    pub(crate) key: PathBuf,
    /// The party the key is enrolled for.
    #[arg(long, value_name = "PARTY")]
    pub(crate) party: PartyId,
    /// Print {"party", "key", "proof"} as JSON (the parts of a SignatoryEnrolled payload
    /// the key's holder supplies) instead of the proof alone.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The audit bundle (from `overens export-bundle`).
    #[arg(value_name = "BUNDLE")]
    pub(crate) bundle: PathBuf,
    /// The log's verifier key (`<origin>+<key id>+<base64 key>`, as `overens serve` prints
    /// it and DIR/log.pub holds it), or a file holding it. Get it from the log's operator or
    /// its witnesses, not from the bundle: without it the bundle's own key is used, which
    /// proves only that the bundle is consistent with itself.
    #[arg(long, value_name = "KEY|FILE", env = "OVERENS_LOG_KEY")]
    pub(crate) log_key: Option<String>,
    /// A registrar key you trust (base64url), or a file with one per line. Repeatable; the
    /// bundle's registrar keys must be exactly these. Without it the bundle's own are used.
    #[arg(
        long = "registrar",
        value_name = "KEY|FILE",
        env = "OVERENS_REGISTRAR",
        required = false
    )]
    pub(crate) registrars: Vec<String>,
    /// A checkpoint of the same log you kept from earlier (the signed note, as GET
    /// /v1/log/checkpoint serves it): proves the log only grew since, with --consistency or
    /// --server.
    #[arg(long, value_name = "OLD_CHECKPOINT_FILE")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// The consistency proof from OLD's size to the bundle's checkpoint's size:
    /// {"old_size", "new_size", "hashes"}, as GET /v1/log/proof/consistency serves it.
    #[arg(
        long,
        value_name = "PROOF_FILE",
        requires = "checkpoint",
        conflicts_with = "server"
    )]
    pub(crate) consistency: Option<PathBuf>,
    /// Fetch the consistency proof from this server (GET
    /// /v1/log/proof/consistency?from=OLD&to=NEW). The proof is checked like one from a
    /// file: the server is not trusted.
    #[arg(long, value_name = "URL", requires = "checkpoint")]
    pub(crate) server: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportBundleArgs {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// The agreement's id (its stream is agreement/<ID>).
    #[arg(long, value_name = "ID")]
    pub(crate) agreement: AgreementId,
    /// Where to write the bundle; `-` for standard output. A file is replaced only once
    /// the whole bundle is written.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AgreementsArgs {
    #[command(flatten)]
    pub(crate) log: LogArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AgreementArgs {
    #[command(flatten)]
    pub(crate) log: LogArgs,
    /// The agreement's id (its stream is agreement/<ID>).
    #[arg(long, value_name = "ID")]
    pub(crate) agreement: AgreementId,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InForceArgs {
    #[command(flatten)]
    pub(crate) agreement: AgreementArgs,
    /// The date asked about (valid time), YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub(crate) on: Date,
    /// Count only what the log had recorded by this instant (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub(crate) as_of: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) agreement: AgreementArgs,
    /// The older version's number.
    #[arg(long, value_name = "N")]
    pub(crate) from: u32,
    /// The newer version's number.
    #[arg(long, value_name = "M")]
    pub(crate) to: u32,
}

/// Exactly `YYYY-MM-DD`: chrono alone would also take signs and longer years.
fn parse_date(text: &str) -> Result<Date, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == text)
        .ok_or_else(|| format!("`{text}` is not a date of the form YYYY-MM-DD, e.g. 2021-01-01"))
}

/// Any RFC 3339 instant, with any offset: this is a person typing, not a signed record, so
/// the canonical-UTC rule of the log does not apply.
fn parse_instant(text: &str) -> Result<Timestamp, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp::from_datetime(t.with_timezone(&Utc)))
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 instant ({e}), e.g. 2021-01-01T12:00:00Z")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2021-01-01").is_ok());
        for bad in [
            "2021-1-1",
            "+2021-01-01",
            "2021-02-30",
            "20210101",
            " 2021-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_accept_offsets() {
        let t = parse_instant("2021-01-01T01:00:00+01:00").expect("valid");
        assert_eq!(t.to_string(), "2021-01-01T00:00:00Z");
        assert!(parse_instant("2021-01-01").is_err());
    }
}
