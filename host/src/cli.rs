//! The command line, shaped like `otelcol`'s: `weir --config FILE`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Weir: an OpenTelemetry collector whose processors and exporters are
/// sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, `weir` runs the collector.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Run(RunArgs),
    /// Check a config (and every plugin's settings) without starting anything.
    Validate(RunArgs),
    /// Development TLS material.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Write, build and inspect plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a plugin project (with a test) from a template.
    New {
        /// The plugin's name: lower-case letters, digits, `-` and `_`.
        name: String,
        /// What the plugin is.
        #[arg(long, value_enum)]
        kind: crate::devkit::Kind,
        /// The language of the template (a folder under `templates/`).
        #[arg(long, default_value = "rust")]
        lang: String,
        /// The folder to write; default `./NAME`.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The Rust SDK crate to depend on; default the `plugins/sdk` of
        /// the checkout this `weir` was built from.
        #[arg(long, value_name = "DIR")]
        sdk_path: Option<PathBuf>,
    },
    /// Build a plugin project (its `weir-plugin.toml` says how) to a
    /// component; prints the component's path.
    Build {
        /// The project folder; default the current one.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Show a component's world, exports and imports, and start it in the
    /// sandbox to show its signals and statefulness.
    Inspect {
        /// The `.wasm` component.
        file: PathBuf,
        /// The config `init` gets, as JSON.
        #[arg(long, default_value = "{}")]
        config: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The config file; without it, a built-in config listening on
    /// 127.0.0.1:4317 (gRPC) and 127.0.0.1:4318 (HTTP) that prints what it gets.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The environment to run as (passed to plugins in their context).
    #[arg(long, value_name = "NAME", env = "WEIR_ENV")]
    pub env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Write ca.crt, server.crt, server.key, client.crt and client.key.
    Generate {
        /// Folder to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Names and addresses the server certificate is valid for.
        #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1")]
        hosts: Vec<String>,
        /// Common name of the client certificate.
        #[arg(long, default_value = "weir-client")]
        client_cn: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_config_flag_means_run() {
        let cli = Cli::try_parse_from(["weir", "--config", "a.yaml"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.config, Some(PathBuf::from("a.yaml")));
    }

    #[test]
    fn subcommands_parse() {
        let cli =
            Cli::try_parse_from(["weir", "run", "--config", "a.yaml", "--env", "prod"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Run(RunArgs { env: Some(ref e), .. })) if e == "prod")
        );
        let cli =
            Cli::try_parse_from(["weir", "certs", "generate", "--out", "d", "--hosts", "a,b"])
                .unwrap();
        match cli.command {
            Some(Command::Certs {
                command:
                    CertsCommand::Generate {
                        hosts, client_cn, ..
                    },
            }) => {
                assert_eq!(hosts, vec!["a", "b"]);
                assert_eq!(client_cn, "weir-client");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plugin_subcommands_parse() {
        let cli =
            Cli::try_parse_from(["weir", "plugin", "new", "x", "--kind", "exporter"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Plugin {
                command: PluginCommand::New { ref lang, kind: crate::devkit::Kind::Exporter, .. }
            }) if lang == "rust"
        ));
        let cli = Cli::try_parse_from(["weir", "plugin", "build"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Plugin { command: PluginCommand::Build { ref dir } }) if dir == &PathBuf::from(".")
        ));
    }
}
