//! The physical limits of replay on this machine: how many ed25519 signatures one core
//! checks with `verify_strict`, and both cores with `verify_batch`.

use std::time::Instant;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;

use crate::rng::Rng;

#[derive(Debug, Serialize)]
pub(crate) struct Limits {
    pub signatures: usize,
    pub message_bytes_mean: usize,
    pub keys: usize,
    /// `VerifyingKey::verify_strict` on one core, keys already decompressed.
    pub verify_strict_per_s_1core: f64,
    /// The same on both cores.
    pub verify_strict_per_s_2cores: f64,
    /// `ed25519_dalek::verify_batch` on one core, in batches of `batch_size`.
    pub verify_batch_per_s_1core: f64,
    /// The same on both cores: the rate replay is measured against.
    pub verify_batch_per_s_2cores: f64,
    pub batch_size: usize,
    /// Signatures per CPU-second of the threads that checked them (both cores' runs): the
    /// cost per signature, which other load on the machine skews least.
    pub verify_strict_per_cpu_s: f64,
    pub verify_batch_per_cpu_s: f64,
    /// Batch rates on one core by batch size.
    pub batch_sizes: Vec<(usize, f64)>,
    /// Decompressing a public key (what a cache of verifying keys saves).
    pub decompress_per_s_1core: f64,
    pub sign_per_s_1core: f64,
}

struct Material {
    keys: Vec<VerifyingKey>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    signer: Vec<usize>,
}

fn material(count: usize) -> (Material, f64) {
    let mut rng = Rng::new(7);
    let signing: Vec<SigningKey> = (0..256)
        .map(|i| SigningKey::from_bytes(&crate::loggen::key(&format!("limits/{i}")).seed()))
        .collect();
    let mut messages = Vec::with_capacity(count);
    let mut signer = Vec::with_capacity(count);
    for _ in 0..count {
        // Signing inputs of envelopes are 0.5–1.5 KB (mean about 0.9 KB).
        let len = 500 + rng.below(1000);
        let mut m = b"overens/event/v1\n".to_vec();
        while m.len() < len {
            m.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        messages.push(m);
        signer.push(rng.below(signing.len()));
    }
    let started = Instant::now();
    let signatures: Vec<Signature> = messages
        .iter()
        .zip(&signer)
        .map(|(m, &k)| signing[k].sign(m))
        .collect();
    let sign_rate = count as f64 / started.elapsed().as_secs_f64();
    let keys = signing.iter().map(|k| k.verifying_key()).collect();
    (
        Material {
            keys,
            messages,
            signatures,
            signer,
        },
        sign_rate,
    )
}

fn strict(m: &Material, range: std::ops::Range<usize>) -> usize {
    let mut ok = 0;
    for i in range {
        if m.keys[m.signer[i]]
            .verify_strict(&m.messages[i], &m.signatures[i])
            .is_ok()
        {
            ok += 1;
        }
    }
    ok
}

fn batch(m: &Material, range: std::ops::Range<usize>, size: usize) -> usize {
    let idx: Vec<usize> = range.collect();
    let mut ok = 0;
    for chunk in idx.chunks(size) {
        let messages: Vec<&[u8]> = chunk.iter().map(|&i| m.messages[i].as_slice()).collect();
        let signatures: Vec<Signature> = chunk.iter().map(|&i| m.signatures[i]).collect();
        let keys: Vec<VerifyingKey> = chunk.iter().map(|&i| m.keys[m.signer[i]]).collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            ok += chunk.len();
        }
    }
    ok
}

/// Runs `f` over halves of `0..n` on two threads; returns checks per second of wall time
/// and per CPU-second of the two threads.
fn two_cores(n: usize, f: impl Fn(std::ops::Range<usize>) -> usize + Sync) -> (f64, f64) {
    let started = Instant::now();
    let timed = |r: std::ops::Range<usize>| {
        let cpu = crate::mem::thread_cpu_s();
        let done = f(r);
        (done, crate::mem::thread_cpu_s() - cpu)
    };
    let ((a, cpu_a), (b, cpu_b)) = std::thread::scope(|s| {
        let a = s.spawn(|| timed(0..n / 2));
        let b = s.spawn(|| timed(n / 2..n));
        (a.join().unwrap_or((0, 0.0)), b.join().unwrap_or((0, 0.0)))
    });
    assert_eq!(a + b, n, "every signature verifies");
    (
        n as f64 / started.elapsed().as_secs_f64(),
        n as f64 / (cpu_a + cpu_b).max(1e-9),
    )
}

fn one_core(n: usize, f: impl Fn(std::ops::Range<usize>) -> usize) -> f64 {
    let started = Instant::now();
    let done = f(0..n);
    assert_eq!(done, n, "every signature verifies");
    n as f64 / started.elapsed().as_secs_f64()
}

pub(crate) fn measure(count: usize) -> Limits {
    let (m, sign_per_s_1core) = material(count);
    let message_bytes_mean = m.messages.iter().map(Vec::len).sum::<usize>() / count;
    // Warm up caches and the CPU's clock.
    strict(&m, 0..count.min(2000));
    let verify_strict_per_s_1core = one_core(count, |r| strict(&m, r));
    let (verify_strict_per_s_2cores, verify_strict_per_cpu_s) = two_cores(count, |r| strict(&m, r));
    let mut batch_sizes = Vec::new();
    for size in [16, 64, 256, 1024] {
        batch_sizes.push((size, one_core(count, |r| batch(&m, r, size))));
    }
    let (batch_size, verify_batch_per_s_1core) = batch_sizes.iter().copied().fold(
        (0, 0.0),
        |best, (s, r)| if r > best.1 { (s, r) } else { best },
    );
    let (verify_batch_per_s_2cores, verify_batch_per_cpu_s) =
        two_cores(count, |r| batch(&m, r, batch_size));
    let bytes: Vec<[u8; 32]> = m.keys.iter().map(|k| k.to_bytes()).collect();
    let started = Instant::now();
    let rounds = count.max(bytes.len());
    let mut decoded = 0;
    for i in 0..rounds {
        if VerifyingKey::from_bytes(&bytes[i % bytes.len()]).is_ok() {
            decoded += 1;
        }
    }
    let decompress_per_s_1core = decoded as f64 / started.elapsed().as_secs_f64();
    Limits {
        signatures: count,
        message_bytes_mean,
        keys: m.keys.len(),
        verify_strict_per_s_1core,
        verify_strict_per_s_2cores,
        verify_batch_per_s_1core,
        verify_batch_per_s_2cores,
        batch_size,
        verify_strict_per_cpu_s,
        verify_batch_per_cpu_s,
        batch_sizes,
        decompress_per_s_1core,
        sign_per_s_1core,
    }
}
