//! Signed notes and checkpoints against Go's sumdb/note vectors, the C2SP example and the
//! signed_note / tlog_tiles ports.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use overens_core::SecretKey;
use overens_log::note::{NoteError, SignedNote, VerifierKey, VerifierKeyError};
use overens_log::{Checkpoint, CheckpointError, key_id};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// Go's example signer key: `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)`.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter_secret() -> SecretKey {
    let key64 = PETER_SKEY.splitn(5, '+').nth(4).expect("key part");
    let bytes = STANDARD.decode(key64).expect("base64");
    assert_eq!(bytes[0], 0x01, "ed25519");
    SecretKey::from_seed(bytes[1..].try_into().expect("32-byte seed"))
}

fn log_key() -> SecretKey {
    SecretKey::from_seed(&[42; 32])
}

const ORIGIN: &str = "overens.example/log";

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
            .parse()
            .expect("hex"),
    }
}

#[test]
fn gos_verifier_key_reads_and_prints_back() {
    let key: VerifierKey = PETER_VKEY.parse().expect("Go's verifier key");
    assert_eq!(key.name(), "PeterNeumann");
    assert_eq!(key.key_id(), 0xc74f_20a3);
    assert_eq!(key.to_string(), PETER_VKEY);
    assert_eq!(*key.key(), peter_secret().public());
    assert_eq!(key_id("PeterNeumann", key.key()), 0xc74f_20a3);
    let enoch: VerifierKey = ENOCH_VKEY.parse().expect("Go's verifier key");
    assert_eq!(enoch.key_id(), 0xaf0c_fe78);
}

#[test]
fn bad_verifier_keys_are_named() {
    let cases: [(&str, VerifierKeyError); 7] = [
        ("PeterNeumann", VerifierKeyError::Format),
        ("PeterNeumann+c74f20a3", VerifierKeyError::Format),
        (
            "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            VerifierKeyError::Format,
        ),
        (
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            VerifierKeyError::InvalidKeyName("Peter Neumann".into()),
        ),
        ("PeterNeumann+c74f20a3+!!!!", VerifierKeyError::Base64),
        (
            // The same key bytes with algorithm byte 0x02.
            "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            VerifierKeyError::UnknownAlgorithm(0x02),
        ),
        (
            "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            VerifierKeyError::KeyIdMismatch {
                expected: 0xc74f_20a3,
                found: 0,
            },
        ),
    ];
    for (text, error) in cases {
        assert_eq!(text.parse::<VerifierKey>(), Err(error), "{text}");
    }
    assert_eq!(
        "PeterNeumann+c74f20a3+AQ==".parse::<VerifierKey>(),
        Err(VerifierKeyError::KeyLength(0))
    );
}

/// Go's sumdb/note example: ed25519 is deterministic, so signing the text with Go's example
/// key gives Go's signature byte for byte, and Go's note opens with Go's verifier key.
#[test]
fn gos_signed_note_is_ours_byte_for_byte() {
    let note = format!("{TEXT}\n{PETER_SIG}");
    let ours = SignedNote::sign(TEXT, &peter_secret(), "PeterNeumann").expect("sign");
    assert_eq!(ours.to_string(), note);

    let peter: VerifierKey = PETER_VKEY.parse().expect("key");
    assert_eq!(SignedNote::open(&note, &peter), Ok(TEXT.to_owned()));
}

#[test]
fn other_signatures_are_ignored_and_bad_ones_rejected() {
    let peter: VerifierKey = PETER_VKEY.parse().expect("key");
    let enoch: VerifierKey = ENOCH_VKEY.parse().expect("key");
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(SignedNote::open(&both, &peter), Ok(TEXT.to_owned()));
    assert_eq!(SignedNote::open(&both, &enoch), Ok(TEXT.to_owned()));
    let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
    assert_eq!(
        SignedNote::open(&only_enoch, &peter),
        Err(NoteError::UnknownKey {
            name: "PeterNeumann".into(),
            key_id: 0xc74f_20a3
        })
    );
    // A signature by a known key that does not verify rejects the whole note.
    let forged = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(
        SignedNote::open(&format!("{TEXT}\n{ENOCH_SIG}{forged}"), &peter),
        Err(NoteError::BadSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f_20a3
        })
    );
    // The text changed by one character.
    let changed = format!("{}\n{PETER_SIG}", TEXT.replace("answer", "Answer"));
    assert!(matches!(
        SignedNote::open(&changed, &peter),
        Err(NoteError::BadSignature { .. })
    ));
}

#[test]
fn malformed_notes_are_named() {
    let peter: VerifierKey = PETER_VKEY.parse().expect("key");
    type Expected = fn(&NoteError) -> bool;
    let cases: Vec<(String, Expected)> = vec![
        (TEXT.to_owned(), |e| matches!(e, NoteError::NoSignatures)),
        (format!("{TEXT}\n"), |e| {
            matches!(e, NoteError::NoSignatures)
        }),
        (format!("{TEXT}\n{}", PETER_SIG.trim_end()), |e| {
            matches!(e, NoteError::SignaturesNotTerminated)
        }),
        (format!("\x01{TEXT}\n{PETER_SIG}"), |e| {
            matches!(e, NoteError::ControlCharacter(1))
        }),
        (
            format!("{TEXT}\n{}", PETER_SIG.replace("PeterNeumann", "Bad Name")),
            |e| matches!(e, NoteError::MalformedSignature { .. }),
        ),
        (
            format!("{TEXT}\n{}", PETER_SIG.replace('\u{2014}', "-")),
            |e| matches!(e, NoteError::MalformedSignature { .. }),
        ),
        (format!("{TEXT}\n\u{2014} PeterNeumann AAAA\n"), |e| {
            matches!(e, NoteError::MalformedSignature { .. })
        }),
        (format!("{TEXT}\n{}", PETER_SIG.repeat(101)), |e| {
            matches!(e, NoteError::TooManySignatures)
        }),
        ("x".repeat(1_000_001), |e| matches!(e, NoteError::TooLarge)),
    ];
    for (note, expected) in cases {
        let err = SignedNote::open(&note, &peter).expect_err("malformed");
        assert!(
            expected(&err),
            "{err:?} for {:?}",
            &note[..note.len().min(80)]
        );
    }
    assert_eq!(
        SignedNote::sign("no newline", &peter_secret(), "PeterNeumann"),
        Err(NoteError::TextNotTerminated)
    );
    assert_eq!(
        SignedNote::sign(TEXT, &peter_secret(), "a+b"),
        Err(NoteError::InvalidKeyName("a+b".into()))
    );
}

#[test]
fn a_checkpoint_is_the_c2sp_text() {
    let cp = checkpoint();
    assert_eq!(
        cp.to_note_body(),
        "overens.example/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    );
    assert_eq!(
        Checkpoint::from_note_body(&cp.to_note_body()),
        Ok(cp.clone())
    );
    let key = log_key();
    let signed = cp.sign(&key, ORIGIN).expect("sign");
    let id = key_id(ORIGIN, &key.public());
    let (body, sig) = signed.split_once("\n\n").expect("blank line");
    assert_eq!(format!("{body}\n"), cp.to_note_body());
    let sig = sig
        .strip_prefix("\u{2014} overens.example/log ")
        .and_then(|s| s.strip_suffix('\n'))
        .expect("signature line");
    let bytes = STANDARD.decode(sig).expect("base64");
    assert_eq!(bytes.len(), 4 + 64);
    assert_eq!(bytes[..4], id.to_be_bytes());
    assert_eq!(
        Checkpoint::parse_and_verify(&signed, ORIGIN, &key.public()),
        Ok(cp)
    );
}

/// The example of the C2SP tlog-checkpoint spec reads (its key is not published, so only
/// the syntax and the key ID in its signature are checked).
#[test]
fn the_c2sp_example_reads() {
    let example = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let note = SignedNote::parse(example).expect("note");
    let cp = Checkpoint::from_note_body(&note.text).expect("checkpoint body");
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(note.signatures.len(), 1);
    assert_eq!(note.signatures[0].name, "example.com/behind-the-sofa");
    assert_eq!(note.signatures[0].signature.len(), 64);
    assert_eq!(note.to_string(), example);
}

#[test]
fn checkpoint_errors_are_precise() {
    let key = log_key();
    let public = key.public();
    let good = checkpoint().sign(&key, ORIGIN).expect("sign");

    // Another key, or the right key under another name: not signed by that key.
    let other = SecretKey::from_seed(&[7; 32]).public();
    assert!(matches!(
        Checkpoint::parse_and_verify(&good, ORIGIN, &other),
        Err(CheckpointError::Note(NoteError::UnknownKey { .. }))
    ));
    assert!(matches!(
        Checkpoint::parse_and_verify(&good, "other.example/log", &public),
        Err(CheckpointError::Note(NoteError::UnknownKey { .. }))
    ));
    // A changed size or root breaks the signature.
    let grown = good.replacen("\n8\n", "\n9\n", 1);
    assert!(matches!(
        Checkpoint::parse_and_verify(&grown, ORIGIN, &public),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
    assert!(matches!(
        Checkpoint::parse_and_verify(&good.replacen("Xcna", "Ycna", 1), ORIGIN, &public),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
    // A witness's cosignature beside ours is ignored.
    let witness = SignedNote::sign(
        &checkpoint().to_note_body(),
        &peter_secret(),
        "PeterNeumann",
    )
    .expect("sign");
    let cosigned = format!(
        "{good}{}",
        witness.to_string().split_once("\n\n").expect("sig").1
    );
    assert_eq!(
        Checkpoint::parse_and_verify(&cosigned, ORIGIN, &public),
        Ok(checkpoint())
    );

    // Bodies that are signed but are not checkpoints.
    let root = "Xcnaeacgwamtvzy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=";
    let cases: Vec<(String, CheckpointError)> = vec![
        (
            format!("{ORIGIN}\n8\n"),
            CheckpointError::MalformedBody("fewer than three lines (origin, size, root)"),
        ),
        (format!("\n8\n{root}\n"), CheckpointError::InvalidOrigin),
        (
            format!("{ORIGIN}\n08\n{root}\n"),
            CheckpointError::SizeNotANumber("08".into()),
        ),
        (
            format!("{ORIGIN}\n-1\n{root}\n"),
            CheckpointError::SizeNotANumber("-1".into()),
        ),
        (
            format!("{ORIGIN}\n+1\n{root}\n"),
            CheckpointError::SizeNotANumber("+1".into()),
        ),
        (
            format!("{ORIGIN}\neight\n{root}\n"),
            CheckpointError::SizeNotANumber("eight".into()),
        ),
        (
            format!("{ORIGIN}\n\n{root}\n"),
            CheckpointError::SizeNotANumber(String::new()),
        ),
        (
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
            CheckpointError::SizeNotANumber("18446744073709551616".into()),
        ),
        (
            format!("{ORIGIN}\n8\nnot base64!\n"),
            CheckpointError::RootNotBase64("not base64!".into()),
        ),
        (
            // Unpadded base64 is not the one text form.
            format!("{ORIGIN}\n8\n{}\n", root.trim_end_matches('=')),
            CheckpointError::RootNotBase64(root.trim_end_matches('=').into()),
        ),
        (
            format!("{ORIGIN}\n8\n{}\n", STANDARD.encode([1u8; 31])),
            CheckpointError::RootLength(31),
        ),
        (
            format!("{ORIGIN}\n8\n{root}\nextension\n"),
            CheckpointError::ExtensionLines,
        ),
    ];
    for (body, error) in cases {
        let note = SignedNote::sign(&body, &key, ORIGIN)
            .expect("sign")
            .to_string();
        assert_eq!(
            Checkpoint::parse_and_verify(&note, ORIGIN, &public),
            Err(error),
            "{body:?}"
        );
    }
    // The largest size reads.
    let max = Checkpoint {
        size: u64::MAX,
        ..checkpoint()
    };
    let note = max.sign(&key, ORIGIN).expect("sign");
    assert_eq!(
        Checkpoint::parse_and_verify(&note, ORIGIN, &public),
        Ok(max)
    );
    // Signing refuses what would not read back.
    let newline = Checkpoint {
        origin: "a\nb".into(),
        ..checkpoint()
    };
    assert_eq!(
        newline.sign(&key, ORIGIN),
        Err(CheckpointError::InvalidOrigin)
    );
    assert_eq!(
        checkpoint().sign(&key, "has space"),
        Err(CheckpointError::Note(NoteError::InvalidKeyName(
            "has space".into()
        )))
    );
}

/// Our checkpoints open with the signed_note port of Go's sumdb/note and read with
/// tlog_tiles' checkpoint parser; notes the port signs open with ours.
#[test]
fn the_go_ports_agree_with_us() {
    let key = log_key();
    let verifier = VerifierKey::new(ORIGIN, key.public()).expect("name");
    let signed = checkpoint().sign(&key, ORIGIN).expect("sign");

    let theirs = signed_note::StandardVerifier::new(&verifier.to_string()).expect("vkey");
    assert_eq!(
        signed_note::Verifier::key_id(&theirs),
        key_id(ORIGIN, &key.public())
    );
    let note = signed_note::Note::from_bytes(signed.as_bytes()).expect("note");
    let (verified, _) = note
        .verify(&signed_note::VerifierList::new(vec![Box::new(theirs)]))
        .expect("verifies with the port");
    assert_eq!(verified.len(), 1);
    let body = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("checkpoint");
    assert_eq!(body.origin(), ORIGIN);
    assert_eq!(body.size(), 8);
    assert_eq!(body.hash().0, checkpoint().root.0);

    // The port signs with the same key (its signer key format), we verify.
    let mut seed_key = vec![0x01];
    seed_key.extend_from_slice(&key.seed());
    let skey = format!(
        "PRIVATE+KEY+{ORIGIN}+{:08x}+{}",
        verifier.key_id(),
        STANDARD.encode(&seed_key)
    );
    let signer = signed_note::StandardSigner::new(&skey).expect("skey");
    let mut note =
        signed_note::Note::new(checkpoint().to_note_body().as_bytes(), &[]).expect("text");
    note.add_sigs(&[&signer]).expect("sign");
    let text = String::from_utf8(note.to_bytes()).expect("utf-8");
    assert_eq!(text, signed, "ed25519 is deterministic: the same note");
    assert_eq!(
        Checkpoint::parse_and_verify_with(&text, &verifier),
        Ok(checkpoint())
    );
}

#[test]
fn verifier_keys_of_our_keys_round_trip() {
    for seed in [[1u8; 32], [2; 32], [200; 32]] {
        let key = SecretKey::from_seed(&seed).public();
        let v = VerifierKey::new(ORIGIN, key).expect("name");
        let text = v.to_string();
        assert!(text.starts_with("overens.example/log+"));
        assert_eq!(text.parse::<VerifierKey>(), Ok(v));
    }
    let any = SecretKey::from_seed(&[3; 32]).public();
    for bad in ["", "a b", "a+b", "tab\there", "nbsp\u{a0}"] {
        assert_eq!(
            VerifierKey::new(bad, any),
            Err(VerifierKeyError::InvalidKeyName(bad.into()))
        );
    }
}
