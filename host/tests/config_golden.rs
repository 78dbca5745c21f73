//! Golden config tests: every file in `tests/config/valid` loads; every file
//! in `tests/config/invalid` fails with exactly the errors in its `.err`
//! file (or, for `.yaml` files with no `.err`, with an error naming the file).

use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/config")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    files
}

fn load(path: &Path) -> Result<weir::config::Config, weir::config::ConfigErrors> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = Path::new(path.file_name().unwrap());
    weir::config::load_str(&text, name, "test", &|var| match var {
        "WEIR_TEST_HTTP_ENDPOINT" => Some("127.0.0.1:14318".into()),
        _ => None,
    })
}

#[test]
fn valid_configs_load() {
    for path in files("valid") {
        if let Err(e) = load(&path) {
            panic!("{} should be valid:\n{e}", path.display());
        }
    }
}

#[test]
fn invalid_configs_report_every_error() {
    for path in files("invalid") {
        let errors = match load(&path) {
            Ok(_) => panic!("{} should be invalid", path.display()),
            Err(e) => e.to_string(),
        };
        let expected = path.with_extension("err");
        if expected.exists() {
            let want = std::fs::read_to_string(&expected).unwrap();
            assert_eq!(errors.trim(), want.trim(), "errors of {}", path.display());
        } else {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(errors.starts_with(&name), "{}: {errors}", path.display());
        }
    }
}

#[test]
fn env_expansion_reaches_typed_settings() {
    let config = load(
        &files("valid")
            .into_iter()
            .find(|p| p.ends_with("env_and_plugins.yaml"))
            .unwrap(),
    )
    .unwrap();
    let weir::config::ReceiverConfig::Otlp(otlp) =
        &config.receivers[&weir::config::ComponentId::parse("otlp").unwrap()]
    else {
        panic!("otlp is an otlp receiver");
    };
    let http = otlp.protocols.http.as_ref().unwrap();
    assert_eq!(http.endpoint, "127.0.0.1:14318");
    assert_eq!(http.max_request_body_size, 1_048_576);
    assert_eq!(
        otlp.protocols.grpc.as_ref().unwrap().endpoint,
        "127.0.0.1:4317"
    );
    let plugin = &config.plugins["redact"];
    assert_eq!(plugin.limits.memory_mib, 16);
    assert_eq!(plugin.limits.timeout, std::time::Duration::from_millis(250));
    assert!(config.telemetry.log_json);
}

#[test]
fn telemetry_address_defaults_to_the_go_collectors_and_follows_readers() {
    let load_text = |text: &str| {
        weir::config::load_str(text, Path::new("t.yaml"), "test", &|_| None)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let base =
        "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\nexporters: {debug: {}}\n";
    let pipelines = "  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}\n";
    let config = load_text(&format!("{base}service:\n{pipelines}"));
    assert_eq!(
        config.telemetry.metrics_address.as_deref(),
        Some("127.0.0.1:8888")
    );
    let config = load_text(&format!(
        "{base}service:\n  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: 0.0.0.0, port: 9464}}}}}}}}]}}}}\n{pipelines}"
    ));
    assert_eq!(
        config.telemetry.metrics_address.as_deref(),
        Some("0.0.0.0:9464")
    );
    let config = load_text(&format!(
        "{base}service:\n  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{}}}}}}}}]}}}}\n{pipelines}"
    ));
    assert_eq!(
        config.telemetry.metrics_address.as_deref(),
        Some("127.0.0.1:8888")
    );
    let config = load_text(&format!(
        "{base}service:\n  telemetry: {{metrics: {{level: none}}}}\n{pipelines}"
    ));
    assert_eq!(config.telemetry.metrics_address, None);
}
