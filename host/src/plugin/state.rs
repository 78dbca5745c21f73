//! What each plugin's `Store` carries: its limits, its WASI context (only
//! what its config grants: see `capabilities`) and the host API's view of
//! who it is.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::capabilities::Grants;

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
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
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
