//! What each plugin's `Store` carries: its limits, its WASI context (only
//! what its config grants: see `capabilities`) and the host API's view of
//! who it is.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::capabilities::Grants;
use crate::telemetry::metrics;

/// Store data of one plugin instance.
pub struct PluginState {
    /// Component id the instance serves, for logs and metrics.
    pub component: Arc<str>,
    pub limiter: MemoryCap,
    wasi: WasiCtx,
    table: ResourceTable,
    /// The guest's stderr (panic messages), kept to explain a trap.
    pub stderr: MemoryOutputPipe,
}

impl PluginState {
    pub fn new(
        component: Arc<str>,
        memory_cap_bytes: usize,
        grants: &Grants,
    ) -> wasmtime::Result<Self> {
        let stderr = MemoryOutputPipe::new(4096);
        let wasi = grants.wasi_ctx(stderr.clone())?;
        Ok(PluginState {
            component,
            limiter: MemoryCap {
                cap: memory_cap_bytes,
                hit: false,
                current: 0,
                accounted: 0,
            },
            wasi,
            table: ResourceTable::new(),
            stderr,
        })
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory and remembers that the cap was hit, so a trap that
/// follows is reported as a memory failure.
pub struct MemoryCap {
    cap: usize,
    /// Set when a grow past `cap` was refused.
    pub hit: bool,
    /// The largest memory size granted so far.
    pub current: usize,
    /// What this instance added to [`instance_memory_bytes`]: the sizes of
    /// all its memories, given back when the instance is dropped.
    accounted: usize,
}

/// Bytes of linear memory the live plugin instances of the process hold,
/// summed: the `weir_plugin_memory_bytes` gauge, which the memory limiter
/// takes into account.
pub fn instance_memory_bytes() -> usize {
    usize::try_from(metrics().plugin_memory_bytes.get()).unwrap_or(0)
}

impl MemoryCap {
    fn account(&mut self, grown: usize) {
        self.accounted += grown;
        metrics().plugin_memory_bytes.inc_by(grown as i64);
    }
}

impl Drop for MemoryCap {
    fn drop(&mut self) {
        metrics().plugin_memory_bytes.dec_by(self.accounted as i64);
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = true;
            return Err(wasmtime::Error::msg(format!(
                "memory cap of {} bytes reached (asked for {desired})",
                self.cap
            )));
        }
        self.current = self.current.max(desired);
        // Granted: wasmtime calls this for a memory's initial size too
        // (from 0), so the sum is every byte the instance maps.
        self.account(desired.saturating_sub(current));
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 64 * 1024;

    #[test]
    fn every_granted_byte_is_accounted_until_the_instance_is_dropped() {
        let mut cap = MemoryCap {
            cap: 4 * PAGE,
            hit: false,
            current: 0,
            accounted: 0,
        };
        // The initial size (from 0), then a grow; a second memory adds its own.
        assert!(cap.memory_growing(0, PAGE, None).unwrap());
        assert!(cap.memory_growing(PAGE, 3 * PAGE, None).unwrap());
        assert!(cap.memory_growing(0, PAGE, None).unwrap());
        assert_eq!(cap.accounted, 4 * PAGE);
        assert_eq!(cap.current, 3 * PAGE);
        // Past the cap: refused, flagged, and nothing accounted.
        assert!(cap.memory_growing(3 * PAGE, 5 * PAGE, None).is_err());
        assert!(cap.hit);
        assert_eq!(cap.accounted, 4 * PAGE);
        // The process-wide sum holds at least this instance's bytes while it
        // lives (other tests' instances come and go beside it).
        assert!(instance_memory_bytes() >= 4 * PAGE);
    }
}
