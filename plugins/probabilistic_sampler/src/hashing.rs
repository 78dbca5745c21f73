//! `hash_seed` mode: the Go collector's original hash, kept bit for bit so
//! that a fleet mixing both collectors keeps or drops the same traces.
//!
//! FNV-1a (32-bit) over the seed's 4 little-endian bytes, then the trace id
//! (or attribute value); the low 14 bits pick one of 16384 buckets, and a
//! trace is kept when its bucket is below `uint32(percent * 163.84)` (that
//! product computed in 32-bit floating point, truncated).

use crate::threshold::{Randomness, Threshold};

const NUM_HASH_BUCKETS_LG2: u32 = 14;
const NUM_HASH_BUCKETS: u32 = 1 << NUM_HASH_BUCKETS_LG2;
const BIT_MASK_HASH_BUCKETS: u32 = NUM_HASH_BUCKETS - 1;
/// `numHashBuckets / 100.0`, which Go evaluates as a float32 next to a float32 percentage.
const PERCENTAGE_SCALE_FACTOR: f32 = NUM_HASH_BUCKETS as f32 / 100.0;

/// FNV-1a 32 of `seed` (4 bytes, little-endian) followed by `bytes`.
pub fn compute_hash(bytes: &[u8], seed: u32) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    seed.to_le_bytes()
        .iter()
        .chain(bytes)
        .fold(OFFSET, |hash, b| (hash ^ u32::from(*b)).wrapping_mul(PRIME))
}

/// The accept rate in buckets: `uint32(float32(pct) * 163.84)`.
pub fn scaled_sample_rate(percent: f32) -> u32 {
    (percent.min(100.0) * PERCENTAGE_SCALE_FACTOR) as u32
}

/// The rejection threshold `hash_seed` mode compares randomness with:
/// `(16384 - scaled) << 42`. `None` when the rate rounds to zero (never sample).
pub fn threshold(percent: f32) -> Option<Threshold> {
    let scaled = scaled_sample_rate(percent);
    (scaled != 0).then(|| Threshold(u64::from(NUM_HASH_BUCKETS - scaled) << 42))
}

/// The 56-bit randomness the Go collector derives from the hash, so that
/// `threshold(p).should_sample(r)` is exactly `bucket < scaled`. Its top 14
/// bits are `16383 - bucket`; the rest mixes the 18 unused hash bits and
/// repeats the bucket (as Go does: it becomes the `rv` written out).
pub fn randomness_from_bytes(bytes: &[u8], seed: u32) -> Randomness {
    let hashed32 = compute_hash(bytes, seed);
    let hashed = u64::from(hashed32 & BIT_MASK_HASH_BUCKETS);
    let rprime14 = u64::from(NUM_HASH_BUCKETS - 1) - hashed;
    let unused18 = u64::from(hashed32 >> (32 - NUM_HASH_BUCKETS_LG2));
    let mixed28 = unused18 ^ (unused18 << 10);
    Randomness((rprime14 << 42) | (mixed28 << 14) | hashed)
}

/// The legacy form of the decision, for the tests: keep when the bucket is
/// below the scaled rate.
pub fn legacy_keep(bytes: &[u8], seed: u32, percent: f32) -> bool {
    compute_hash(bytes, seed) & BIT_MASK_HASH_BUCKETS < scaled_sample_rate(percent)
}
