//! Routes each receiver's requests to the pipelines that list it, through a
//! swappable table: a reload replaces the table, receivers keep running.
//!
//! The table also holds what a reload may change about who may send:
//! each receiver's authenticators, how a tenant is found, and each
//! tenant's own pipelines, rate limit and memory budget. A request's path
//! here: tenant → its rate limit → its memory budget → its pipelines.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::ingest::{Accepted, Ingest, IngestFuture, IngestRequest, Refusal};
use super::memory::{MemoryGate, Reservation};
use super::pipeline::Pipeline;
use crate::Signal;
use crate::auth::{AuthFailure, Authenticated, Authenticator};
use crate::telemetry::{TenantLabels, metrics};
use crate::tenant::{Principal, RateLimiter, Tenancy, Unidentified};

/// Pipelines by (receiver id, signal).
pub type Table = HashMap<(String, Signal), Vec<Arc<Pipeline>>>;

/// The routing table.
#[derive(Default)]
pub struct Routes {
    /// `service.pipelines`: the default tenant's, and those of every tenant
    /// not listed under `tenants:`.
    pub table: Table,
    /// Tenants listed under `tenants:`.
    pub tenants: HashMap<Arc<str>, TenantRoutes>,
    /// Authenticators by receiver id, then transport (`grpc`, `http`).
    pub auth: HashMap<String, HashMap<&'static str, Authenticator>>,
    /// How a request's tenant is found.
    pub tenancy: Tenancy,
}

/// What one tenant has to itself.
#[derive(Default)]
pub struct TenantRoutes {
    pub table: Table,
    /// `rate_limit`: items per second with a burst.
    pub limiter: Option<RateLimiter>,
    /// `memory_limit_mib`: bytes of the tenant's requests held at once.
    pub gate: Option<Arc<MemoryGate>>,
}

/// The current routing table, shared by every receiver.
#[derive(Clone, Default)]
pub struct Router {
    routes: Arc<ArcSwap<Routes>>,
}

impl Router {
    /// Makes `routes` the table new requests use; returns the old one.
    pub fn swap(&self, routes: Routes) -> Arc<Routes> {
        self.routes.swap(Arc::new(routes))
    }

    /// The `Ingest` a receiver with this id hands its requests to.
    pub fn for_receiver(&self, receiver: &str) -> Arc<dyn Ingest> {
        Arc::new(ReceiverIngest {
            receiver: receiver.to_string(),
            routes: self.routes.clone(),
        })
    }
}

struct ReceiverIngest {
    receiver: String,
    routes: Arc<ArcSwap<Routes>>,
}

impl Ingest for ReceiverIngest {
    fn authenticate(
        &self,
        transport: &'static str,
        headers: &http::HeaderMap,
    ) -> Result<Authenticated, AuthFailure> {
        let routes = self.routes.load();
        match routes
            .auth
            .get(self.receiver.as_str())
            .and_then(|by_transport| by_transport.get(transport))
        {
            Some(authenticator) => authenticator.authenticate(headers),
            None => Ok(Authenticated::default()),
        }
    }

    fn admit(&self, signal: Signal, principal: &Principal) -> Result<(), Refusal> {
        let routes = self.routes.load();
        let tenant = match routes.tenancy.resolve_early(principal) {
            // The body names the tenant (a resource attribute): decided in `ingest`.
            None => return Ok(()),
            Some(Err(Unidentified(reason))) => {
                metrics().tenant_unidentified_requests.inc();
                return Err(Refusal::Forbidden(reason));
            }
            Some(Ok(tenant)) => tenant,
        };
        let Some(limiter) = routes.tenants.get(&tenant).and_then(|t| t.limiter.as_ref()) else {
            return Ok(());
        };
        limiter.check().map_err(|retry_after| {
            // The items are not known yet: only the request is counted.
            metrics()
                .tenant_requests
                .get_or_create(&TenantLabels {
                    tenant: tenant.to_string(),
                    signal: signal.to_string(),
                    outcome: "rate_limited".into(),
                })
                .inc();
            over_rate(&tenant, retry_after)
        })
    }

    fn precheck(
        &self,
        signal: Signal,
        principal: &Principal,
        bytes: usize,
    ) -> Result<Reservation, Refusal> {
        let routes = self.routes.load();
        // The tenant, when the principal names it: its own budget first,
        // then the gates of the pipelines it will go through.
        let own = match routes.tenancy.resolve_early(principal) {
            Some(Ok(tenant)) => routes.tenants.get(&tenant),
            // Unknown (refused by `admit`) or named by the body: the shared pipelines.
            _ => None,
        };
        let table = own
            .filter(|t| !t.table.is_empty())
            .map_or(&routes.table, |t| &t.table);
        let pipelines = table.get(&(self.receiver.clone(), signal));
        let gates = own.and_then(|t| t.gate.as_ref()).into_iter().chain(
            pipelines
                .into_iter()
                .flatten()
                .filter_map(|p| p.gate.as_ref()),
        );
        // Room in every gate (each once) is held while the body is read.
        let mut reservation = Reservation::default();
        for gate in gates {
            if reservation.0.iter().any(|p| Arc::ptr_eq(p.gate(), gate)) {
                continue;
            }
            reservation.0.push(gate.reserve(bytes)?);
        }
        Ok(reservation)
    }

    fn ingest(&self, mut request: IngestRequest) -> IngestFuture {
        let routes = self.routes.load_full();
        let key = (self.receiver.clone(), request.signal);
        Box::pin(async move {
            // Whose data: the first configured source that names an accepted tenant.
            let principal = std::mem::take(&mut request.principal);
            let tenant = routes
                .tenancy
                .resolve(&principal, request.signal, &request.payload)
                .map_err(|Unidentified(reason)| {
                    metrics().tenant_unidentified_requests.inc();
                    Refusal::Forbidden(reason)
                })?;
            request.tenant = tenant.clone();
            let own = routes.tenants.get(&tenant);
            // A tenant with no pipelines of its own shares `service.pipelines`
            // (still under its own rate limit and budget).
            let table = own
                .filter(|t| !t.table.is_empty())
                .map_or(&routes.table, |t| &t.table);
            let Some(pipelines) = table.get(&key) else {
                let whose = match own {
                    Some(_) => format!(" for tenant {tenant}"),
                    None => String::new(),
                };
                return Err(Refusal::NotConsumed(format!(
                    "no pipeline takes {} from receiver {}{whose}",
                    key.1, key.0
                )));
            };
            let count = |outcome: &str| {
                let labels = TenantLabels {
                    tenant: tenant.to_string(),
                    signal: key.1.to_string(),
                    outcome: outcome.into(),
                };
                let m = metrics();
                m.tenant_requests.get_or_create(&labels).inc();
                m.tenant_items
                    .get_or_create(&labels)
                    .inc_by(request.items as u64);
            };
            if let Some(own) = own {
                // The tenant's rate first: a flood is refused before it costs memory.
                if let Some(limiter) = &own.limiter
                    && let Err(retry_after) = limiter.take(request.items)
                {
                    count("rate_limited");
                    return Err(over_rate(&tenant, retry_after));
                }
                // Then the tenant's own memory budget, held until its batches are gone.
                if let Some(gate) = &own.gate {
                    match gate.try_acquire(request.payload.len()) {
                        Ok(permit) => request.permits.push(Arc::new(permit)),
                        Err(refusal) => {
                            count("memory");
                            return Err(refusal);
                        }
                    }
                }
            }
            let mut accepted = Accepted::default();
            for pipeline in pipelines {
                let outcome = match pipeline.accept(request.clone()).await {
                    Ok(outcome) => outcome,
                    Err(refusal) => {
                        count("refused");
                        return Err(refusal);
                    }
                };
                accepted.rejected_items = accepted.rejected_items.max(outcome.rejected_items);
                if accepted.message.is_empty() {
                    accepted.message = outcome.message;
                }
            }
            count("accepted");
            Ok(accepted)
        })
    }
}

/// 429 / `RESOURCE_EXHAUSTED` with the time until the tenant may send again.
fn over_rate(tenant: &str, retry_after: std::time::Duration) -> Refusal {
    Refusal::Exhausted {
        retry_after,
        reason: format!("tenant {tenant} is over its rate limit; retry after {retry_after:?}"),
    }
}
