//! Configuration in the OpenTelemetry Collector's YAML shape: `receivers`,
//! `processors`, `exporters`, `plugins` and `service.pipelines`, with
//! `${env:VAR}` substitution. Each component's struct doc is its user docs.

pub mod receiver;
pub mod units;
