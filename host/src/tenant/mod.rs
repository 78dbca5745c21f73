//! Tenants: who a request belongs to, and what each tenant may take.
//!
//! [`Principal`] is what a receiver knows about the sender (the verified
//! client certificate, the authenticated user, the headers);
//! [`Tenancy::resolve`] turns it into a tenant name by the configured
//! sources, in order; [`RateLimiter`] is a tenant's items-per-second bucket.

mod cert;
mod identity;
mod rate;

pub use cert::CertIdentity;
pub use identity::{Principal, Tenancy, Unidentified};
pub use rate::RateLimiter;
