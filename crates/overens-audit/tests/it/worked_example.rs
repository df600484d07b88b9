//! The worked example of docs/audit.md, recomputed: the section between its markers must be
//! exactly what this code writes, so the doc cannot go stale.
//!
//! After a deliberate change (of the example log, a format, the test log key), rewrite the
//! section with `OVERENS_UPDATE_DOCS=1 cargo test -p overens-audit worked_example` and
//! review the diff.

use std::fmt::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use overens_core::envelope::EVENT_SIGNING_PREFIX;
use overens_core::{Digest32, LogRecord};
use overens_log::{Checkpoint, SignedNote, leaf_hash, node_hash, prove_inclusion};
use sha2::{Digest, Sha256};

use crate::common::{ORIGIN, log_signer, records};

const BEGIN: &str = "<!-- BEGIN worked example: generated and checked by \
                     crates/overens-audit/tests/it/worked_example.rs -->\n";
const END: &str = "<!-- END worked example -->";

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit.md")
}

fn code(out: &mut String, text: &str) {
    let _ = writeln!(out, "```text\n{text}\n```\n");
}

/// The worked example, as markdown.
fn worked_example() -> String {
    let all = records();
    let tree = overens_audit::tree_of(&all).expect("tree");
    let size = tree.size();
    let root = tree.root();
    let (r0, r1): (&LogRecord, &LogRecord) = (&all[0], &all[1]);
    let mut out = String::new();

    // 1. Canonical bytes, signing input, signature, event hash.
    let envelope = r0.event.canonical_bytes();
    let envelope_text = String::from_utf8(envelope.clone()).expect("utf-8");
    let signing_input = r0.event.unsigned().signing_input();
    let unsigned_text =
        String::from_utf8(signing_input[EVENT_SIGNING_PREFIX.len()..].to_vec()).expect("utf-8");
    let event_hash = Digest32::of(&envelope);
    assert_eq!(r1.event.prev, event_hash, "record 1 chains to record 0");
    let _ = writeln!(
        out,
        "**Step 1: the envelope's canonical bytes.** Log record 0 is the registrar's \
         `PartyRegistered` of Utbildningskontoret, seq 0 of the `directory` stream. JCS of its \
         envelope is these {} bytes (UTF-8; `ö` is the two bytes `c3 b6`), with no newline at \
         the end:\n",
        envelope.len()
    );
    code(&mut out, &envelope_text);
    let _ = writeln!(
        out,
        "**Step 2: the signing input** is the 17 ASCII bytes `overens/event/v1` `0x0A`, then JCS \
         of the envelope without `sig` ({} bytes in all; the second line below is the first \
         with its `\"sig\":\"…\",` member cut out):\n",
        signing_input.len()
    );
    code(
        &mut out,
        &format!(
            "{}{unsigned_text}",
            String::from_utf8_lossy(EVENT_SIGNING_PREFIX)
        ),
    );
    let _ = writeln!(
        out,
        "Its SHA-256 is `{}` (for checking your bytes; ed25519 signs the bytes themselves). \
         `sig` must be a valid ed25519 signature (RFC 8032, strict: canonical `S`, `R` not of \
         small order) of these bytes by `signer` = `{}`, whose 32 bytes are `{}` (hex).\n",
        Digest32::of(&signing_input),
        r0.event.signer,
        hex(r0.event.signer.as_bytes())
    );
    let _ = writeln!(
        out,
        "**Step 3: the event hash** is SHA-256 of the canonical bytes of step 1:\n`{event_hash}`. \
         Record 1 (seq 1 of `directory`) names exactly this as its `prev`.\n"
    );

    // 2. Leaf hashes.
    let line0 = r0.to_line();
    let line1 = r1.to_line();
    let leaf0 = leaf_hash(line0.as_bytes());
    let leaf1 = leaf_hash(line1.as_bytes());
    let _ = writeln!(
        out,
        "**Step 4: the leaf hash.** The log record is JCS of `{{\"index\", \"recorded_at\", \
         \"event\"}}`; the keys sort as `event`, `index`, `recorded_at`, so the canonical \
         envelope is copied in unchanged:\n"
    );
    code(&mut out, &line0);
    let _ = writeln!(
        out,
        "Leaf 0 = SHA-256(`0x00` ‖ those {} bytes) = `{leaf0}`.\n\nRecord 1, the same way:\n",
        line0.len()
    );
    code(&mut out, &line1);
    let _ = writeln!(out, "Leaf 1 = `{leaf1}`.\n");

    // 3. The inclusion proof of leaf 1, step by step.
    let index = 1u64;
    let path = prove_inclusion(index, size, &tree).expect("proof");
    let proof_json = serde_json::to_string(&overens_log::InclusionProof {
        index,
        size,
        hashes: path.clone(),
    })
    .expect("json");
    let _ = writeln!(
        out,
        "**Step 5: the inclusion proof of leaf 1 in the tree of {size} leaves**, as the bundle \
         holds it (`proofs[1]`):\n"
    );
    code(&mut out, &proof_json);
    let _ = writeln!(
        out,
        "RFC 9162 §2.1.3.2, with `fn` = 1 and `sn` = {} (size − 1), `r` = leaf 1. For each \
         hash `p` of the path in order: if `fn` is odd or `fn` = `sn`, then `r` = \
         SHA-256(`0x01` ‖ `p` ‖ `r`) (p is on the left), and unless `fn` is odd, shift `fn` \
         and `sn` right together until `fn` is odd or 0; otherwise `r` = SHA-256(`0x01` ‖ `r` \
         ‖ `p`) (p is on the right). Then shift `fn` and `sn` right by one.\n",
        size - 1
    );
    let _ = writeln!(
        out,
        "| step | `fn` | `sn` | `p` | combine | `r` after |\n| --- | --- | --- | --- | --- | --- |"
    );
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf1;
    for (step, p) in path.iter().enumerate() {
        let (before_fn, before_sn) = (fn_, sn);
        let combine;
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            combine = "H(0x01 ‖ p ‖ r)";
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
            combine = "H(0x01 ‖ r ‖ p)";
        }
        fn_ >>= 1;
        sn >>= 1;
        let _ = writeln!(
            out,
            "| {} | {before_fn} | {before_sn} | `{p}` | {combine} | `{r}` |",
            step + 1
        );
    }
    assert_eq!((sn, r), (0, root), "the proof leads to the root");
    let _ = writeln!(
        out,
        "\nAt the end `sn` = 0 and `r` = `{root}`: the root of the checkpoint below. (The \
         first step combines leaf 0 of step 4 as `p`: leaf 1 is a right child.)\n"
    );

    // 4. The checkpoint as a signed note.
    let signer = log_signer();
    let note = signer.sign(size, root).expect("signed").note_text;
    let parsed = SignedNote::parse(&note).expect("note");
    let checkpoint = Checkpoint::parse_and_verify_with(&note, signer.verifier_key()).expect("ok");
    assert_eq!(checkpoint.root, root);
    let key = signer.verifier_key().key();
    let mut id_input = ORIGIN.as_bytes().to_vec();
    id_input.push(b'\n');
    id_input.push(0x01);
    id_input.extend_from_slice(key.as_bytes());
    let id_hash = Sha256::digest(&id_input);
    let signature = &parsed.signatures[0];
    let _ = writeln!(
        out,
        "**Step 6: the checkpoint.** This example's log is named `{ORIGIN}` and signs with a \
         TEST key whose 32-byte seed is `0x4c` repeated (public: never use it). Its public key \
         is `{}` (hex). The whole signed note, as the bundle's `checkpoint` holds it:\n",
        hex(key.as_bytes())
    );
    code(&mut out, note.trim_end_matches('\n'));
    let _ = writeln!(
        out,
        "- The body is the first three lines with their newlines ({} bytes): the origin, the \
         tree size in decimal, and the root in standard base64 with padding (`{}` is the root \
         `{root}`).",
        parsed.text.len(),
        STANDARD.encode(root.0)
    );
    let _ = writeln!(
        out,
        "- After the blank line, the signature line: `—` (U+2014, bytes `e2 80 94`), a space, \
         the key name, a space, and base64 of 68 bytes: the 4-byte key ID, then the 64-byte \
         ed25519 signature of the body bytes."
    );
    let _ = writeln!(
        out,
        "- The key ID is the first 4 bytes, big-endian, of SHA-256(key name ‖ `0x0A` ‖ `0x01` \
         ‖ 32-byte public key) = `{}`: `{:08x}`.",
        hex(&id_hash),
        signature.key_id
    );
    let _ = writeln!(
        out,
        "- The signature (hex) is `{}`.",
        hex(&signature.signature)
    );
    let _ = writeln!(
        out,
        "- The verifier key that names this key (the bundle's `log_key`, and what you pass to \
         `--log-key`) is `{}`: name, key ID in hex, base64 of `0x01` ‖ public key.\n",
        signer.verifier_key()
    );
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_worked_example_in_the_auditors_guide_is_current() {
    let generated = worked_example();
    let path = doc_path();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = doc.find(BEGIN).map(|i| i + BEGIN.len());
    let end = doc.find(END);
    let (Some(start), Some(end)) = (start, end) else {
        panic!("{} lacks the worked example's markers", path.display());
    };
    let current = &doc[start..end];
    if current != generated {
        if std::env::var_os("OVERENS_UPDATE_DOCS").is_some() {
            let updated = format!("{}{generated}{}", &doc[..start], &doc[end..]);
            std::fs::write(&path, updated).expect("write docs/audit.md");
            return;
        }
        panic!(
            "docs/audit.md's worked example is stale. Rerun with OVERENS_UPDATE_DOCS=1 to \
             rewrite it, and review the diff. The current values:\n\n{generated}"
        );
    }
}
