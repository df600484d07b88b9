//! The properties the fuzz targets check, one plain function per target, so that libFuzzer
//! (fuzz/, nightly) and a stable test over the committed seeds (tests/seeds.rs) run the
//! very same code.
//!
//! Each `check_*` takes the fuzzer's bytes, panics when a property does not hold (that is
//! what libFuzzer reports as a crash), and otherwise says whether the input was accepted,
//! so that the seed test can show the accepting paths are reached, not only refusals.
//!
//! | target | function | property |
//! | --- | --- | --- |
//! | `envelope` | [`check_envelope`] | an accepted envelope re-serialises to the same canonical bytes; verification is deterministic; re-signed, it verifies unless its shape is wrong |
//! | `record` | [`check_record`] | an accepted log line round-trips byte for byte; canonical = the JCS library's bytes |
//! | `jcs` | [`check_jcs`] | the fast canonical writer equals serde_json_canonicalizer; canonical output is a fixed point |
//! | `bundle` | [`check_bundle`] | arbitrary text or a mutated real bundle never panics the verifier; a mutated bundle that verifies says exactly what the original says |
//! | `merkle` | [`check_merkle`] | proofs never panic and never prove a wrong leaf or root of a real tree |
//! | `note` | [`check_note`] | accepted notes, checkpoints and verifier keys re-serialise to the same bytes |
//! | `write` | [`check_write`] | the write route never answers 5xx, refuses with problem+json, and changes the log only with 201 |

mod bundle;
mod envelope;
pub mod examples;
mod jcs;
mod merkle;
mod note;
mod record;
mod write;

pub use bundle::check_bundle;
pub use envelope::check_envelope;
pub use jcs::check_jcs;
pub use merkle::check_merkle;
pub use note::check_note;
pub use record::check_record;
pub use write::{WriteFixture, check_write, check_write_with};

/// What became of one input: it passed the parser (and the checks made of accepted
/// inputs), or it was refused cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused,
}

impl Outcome {
    fn of(accepted: bool) -> Self {
        if accepted {
            Outcome::Accepted
        } else {
            Outcome::Refused
        }
    }
}

/// A property check: the fuzzer's bytes in, a panic on a broken property.
pub type Check = fn(&[u8]) -> Outcome;

/// Every target: its name (the directory of its seeds and corpus, and the fuzz target's
/// binary name) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("envelope", check_envelope),
    ("record", check_record),
    ("jcs", check_jcs),
    ("bundle", check_bundle),
    ("merkle", check_merkle),
    ("note", check_note),
    ("write", check_write),
];
