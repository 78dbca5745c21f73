//! `weir-loadgen`: the OTLP load generator, or with `--sink` the counting sink.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = weir_loadgen::cli::Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?;
    let ok = runtime.block_on(weir_loadgen::cli::run(args))?;
    std::process::exit(if ok { 0 } else { 1 });
}
