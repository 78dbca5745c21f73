//! Per-tenant instances, as stateful processors and connectors keep them:
//! one slot a tenant, filled when the tenant's first batch arrives and
//! emptied when its instance is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::plugin::CallError;
use crate::telemetry::{ComponentLabels, metrics};

/// One tenant's instance; `None` until first used or after it was lost.
pub type Slot<I> = Arc<Mutex<Option<I>>>;

/// A stage's instances by tenant.
pub struct Tenants<I> {
    slots: Mutex<HashMap<Arc<str>, Slot<I>>>,
}

impl<I> Default for Tenants<I> {
    fn default() -> Self {
        Tenants {
            slots: Mutex::default(),
        }
    }
}

impl<I> Tenants<I> {
    /// The tenant's slot (made empty on first use).
    pub fn slot(&self, tenant: &Arc<str>) -> Slot<I> {
        self.slots
            .lock()
            .expect("tenants lock")
            .entry(tenant.clone())
            .or_default()
            .clone()
    }

    /// Lets go of every instance.
    pub fn clear(&self) {
        self.slots.lock().expect("tenants lock").clear();
    }

    /// Runs `call` on every tenant's slot: what each gave, where it gave
    /// something (a failed call has been counted and logged by `call`).
    pub fn each<T>(
        &self,
        mut call: impl FnMut(&str, &Slot<I>) -> Result<Vec<T>, CallError>,
    ) -> Vec<(Arc<str>, Vec<T>)> {
        let slots: Vec<(Arc<str>, Slot<I>)> = {
            let slots = self.slots.lock().expect("tenants lock");
            slots.iter().map(|(t, s)| (t.clone(), s.clone())).collect()
        };
        let mut gave = Vec::new();
        for (tenant, slot) in slots {
            if let Ok(out) = call(&tenant, &slot)
                && !out.is_empty()
            {
                gave.push((tenant, out));
            }
        }
        gave
    }
}

/// Runs `call` on the instance in `slot`, first starting one with `start`
/// when the slot is empty (with no `start`, an empty slot holds nothing and
/// gives nothing). A failure that ends the instance empties the slot, counts
/// the lost state under `labels` and is reported with `lost`.
pub fn call_slot<I, R: Default>(
    slot: &Mutex<Option<I>>,
    start: Option<impl FnOnce() -> Result<I, CallError>>,
    labels: ComponentLabels,
    call: impl FnOnce(&mut I) -> Result<R, CallError>,
    lost: impl FnOnce(&CallError),
) -> Result<R, CallError> {
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        let Some(start) = start else {
            return Ok(R::default());
        };
        *guard = Some(start()?);
    }
    let instance = guard.as_mut().expect("filled above");
    let result = call(instance);
    if let Err(e) = &result
        && !e.instance_survives()
    {
        *guard = None;
        // The log line first: whoever sees the count finds the reason logged.
        lost(e);
        metrics().plugin_state_lost.get_or_create(&labels).inc();
    }
    result
}
