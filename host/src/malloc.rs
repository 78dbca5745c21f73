//! glibc malloc settings for the collector's allocation pattern, applied
//! once at start-up (before any thread exists).
//!
//! Batches are megabyte buffers (a request's body, a merged batch, a
//! plugin's input and output) allocated and freed many times a second on
//! several threads. With glibc's defaults each was served from fresh pages:
//! its dynamic mmap threshold sent them to `mmap`/`munmap`, or the heap was
//! trimmed and grown back, so the kernel cleared pages for every copy
//! (~10% of weir's CPU under load was page faults, see benches/RESULTS.md);
//! and every thread that allocated got an arena of its own that kept its
//! high-water mark. The settings below keep batch-sized blocks in the heap
//! (reused, no page faults), give memory back once more than 4 MiB is free
//! at the heap's top, and use one arena (two cores; the small allocations
//! go through the per-thread caches without taking the arena's lock).
//!
//! A user who sets `GLIBC_TUNABLES` or a `MALLOC_*` variable keeps theirs.

/// Blocks up to this size come from the heap rather than their own `mmap`.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the heap's top beyond this goes back to the system.
const TRIM_THRESHOLD: i32 = 4 << 20;
/// Heaps shared by all threads. Measured on 2 cores, where the small
/// allocations' per-thread caches keep the lock cold; a many-core host
/// under heavy load may want `GLIBC_TUNABLES=glibc.malloc.arena_max=N`.
const ARENA_MAX: i32 = 1;

/// Applies the settings unless the environment tunes malloc itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune() {
    let tuned_by_user = std::env::vars_os().any(|(k, _)| {
        let k = k.to_string_lossy();
        k == "GLIBC_TUNABLES" || k.starts_with("MALLOC_")
    });
    if tuned_by_user {
        return;
    }
    // SAFETY: mallopt only changes malloc's parameters; it is called from
    // `main` before any other thread runs, as glibc recommends.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
    }
}

/// Other allocators keep their defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// How often the service gives free heap memory back ([`release_free`]).
pub const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Gives the system back the whole free pages inside the heap, not only at
/// its top: what start-up (plugin loading) and the last burst of batches
/// left free. Called once the collector is ready, after a reload, and
/// every [`RELEASE_EVERY`]; a walk of the free lists, well under a
/// millisecond for the heaps a collector keeps.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free() {
    // SAFETY: malloc_trim is thread-safe and only returns unused pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Nothing to do with other allocators.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free() {}
