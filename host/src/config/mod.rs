//! Configuration in the OpenTelemetry Collector's YAML shape: `receivers`,
//! `processors`, `exporters`, `plugins` and `service.pipelines`, with
//! `${env:VAR}` substitution. Each component's struct doc is its user docs;
//! `docs/configuration.md` is the reference.

pub mod auth;
mod connectors;
mod env;
mod error;
pub mod extensions;
pub mod filelog;
pub mod hostmetrics;
pub mod layers;
mod load;
mod load_tenancy;
mod model;
mod plugins;
pub mod receiver;
pub mod resourcedetection;
pub mod tenancy;
mod tree;
pub mod units;

pub use error::{ConfigError, ConfigErrors};
pub use extensions::{ExtensionConfig, Fsync};
pub use load::{DEFAULT_CONFIG, load_layers, load_str};
pub use model::*;
pub use tenancy::{TenancyConfig, TenantConfig};
