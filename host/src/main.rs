//! The `weir` binary: parses the command line and reports errors with context.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use weir::cli::{CertsCommand, Cli, Command, PluginCommand, RunArgs};
use weir::service::ConfigSource;

fn main() -> ExitCode {
    // First, before any thread starts.
    weir::malloc::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(cli.run),
        Some(Command::Run(args)) => run(args),
        Some(Command::Validate(args)) => return validate(args),
        Some(Command::Certs {
            command:
                CertsCommand::Generate {
                    out,
                    hosts,
                    client_cn,
                },
        }) => certs(out, hosts, client_cn),
        Some(Command::Plugin { command }) => return plugin(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weir: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn source(args: &RunArgs) -> ConfigSource {
    ConfigSource {
        path: args.config.clone(),
        // `--env` or `WEIR_ENV` (clap), else `ENVIRONMENT` as in the seeds' setup.
        environment: args
            .env
            .clone()
            .or_else(|| std::env::var("ENVIRONMENT").ok())
            .unwrap_or_default(),
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let source = source(&args);
    let (config, hash) = match source.load() {
        Ok(loaded) => loaded,
        Err(errors) => anyhow::bail!("invalid configuration:\n{errors}"),
    };
    weir::telemetry::logging::init(&config.telemetry);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(weir::service::run(source, config, hash))?;
    Ok(())
}

fn validate(args: RunArgs) -> ExitCode {
    let name = args
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<default config>".into());
    let result = source(&args)
        .load()
        .and_then(|(config, _)| weir::service::validate(config).map(|_| ()));
    match result {
        Ok(()) => {
            println!("{name}: valid");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "{name}: {} error{}",
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

fn certs(out: std::path::PathBuf, hosts: Vec<String>, client_cn: String) -> anyhow::Result<()> {
    let certs = weir::certs::generate(&weir::certs::CertsRequest { hosts, client_cn })?;
    for path in weir::certs::write(&certs, &out)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn plugin(command: PluginCommand) -> ExitCode {
    let result = match command {
        PluginCommand::New {
            name,
            kind,
            lang,
            out,
            sdk_path,
        } => plugin_new(name, kind, lang, out, sdk_path),
        PluginCommand::Build { dir } => weir::devkit::build(&dir)
            .map(|wasm| println!("{}", wasm.display()))
            .map_err(Into::into),
        PluginCommand::Inspect { file, config } => return plugin_inspect(&file, &config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weir plugin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn plugin_new(
    name: String,
    kind: weir::devkit::Kind,
    lang: String,
    out: Option<std::path::PathBuf>,
    sdk_path: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let out = out.unwrap_or_else(|| name.clone().into());
    let request = weir::devkit::NewPlugin {
        name,
        kind,
        lang,
        out: out.clone(),
        sdk_path: sdk_path.unwrap_or_else(weir::devkit::default_sdk_path),
    };
    let files = weir::devkit::new_project(&request)?;
    println!(
        "wrote {} files to {}; next: weir plugin build {}",
        files.len(),
        out.display(),
        out.display()
    );
    Ok(())
}

fn plugin_inspect(file: &std::path::Path, config: &str) -> ExitCode {
    let run = || -> anyhow::Result<weir::plugin::Inspection> {
        serde_json::from_str::<serde_json::Value>(config).context("--config is not JSON")?;
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let engine = weir::plugin::PluginEngine::new()?;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into());
        Ok(weir::plugin::inspect(
            &engine,
            &name,
            &bytes,
            config,
            &weir::plugin::Grants::default(),
        )?)
    };
    match run() {
        Ok(found) => {
            println!("plugin:   {}", file.display());
            println!("{found}");
            if found.loads() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("weir plugin inspect: {e:#}");
            ExitCode::FAILURE
        }
    }
}
