//! The memory account end to end, over gRPC: a message is refused by the
//! length its 5-byte prefix declares, before the message is read (the
//! pipeline's `memory_limiter` and the tenant's `memory_limit_mib`), and
//! the client hears RESOURCE_EXHAUSTED (with `RetryInfo` when waiting can
//! help) while the rest of its message is still unsent.

mod common;

use std::time::{Duration, Instant};

use common::Weir;
use common::grpc::{Client, LOGS, declare};
use common::plain::head_only;
use common::seqlogs::logs;
use common::sink::Sink;
use tonic::Code;

const MIB: u32 = 1024 * 1024;

fn start(dir: &std::path::Path, sink: &Sink) -> Weir {
    // 10 MiB limit, 2 MiB spike: 8 MiB of requests. Tenant `small`: 1 MiB.
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 256}}
      http: {{endpoint: 127.0.0.1:0, max_request_body_size: 268435456}}
processors:
  memory_limiter: {{limit_mib: 10, spike_limit_mib: 2, check_interval: 2s}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    retry_on_failure: {{initial_interval: 1s, max_elapsed_time: 0s}}
tenancy: {{sources: [{{from: header}}]}}
tenants:
  small: {{memory_limit_mib: 1}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    Weir::start(dir, &config)
}

/// Waits until the account, and its `stage`, hold nothing.
fn account_back_to_zero(weir: &Weir, stage: &str) {
    weir.wait_for("the account back to zero", Duration::from_secs(30), |w| {
        w.metric("weir_memory_in_use_bytes", &[]) == 0.0
            && w.metric("weir_memory_stage_bytes", &[("stage", stage)]) == 0.0
    });
}

/// Sends 100 KB requests (as `tenant`) until one is refused; returns it.
fn fill(client: &mut Client, tenant: &str) -> common::grpc::Refused {
    for block in 0..200 {
        match client.export(
            LOGS,
            logs(block * 100, 100, 1000),
            &[("x-scope-orgid", tenant)],
        ) {
            Ok(()) => {}
            Err(refused) => return refused,
        }
    }
    panic!("the budget of {tenant} never filled");
}

#[test]
fn a_grpc_message_is_refused_by_its_declared_length_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    // The endpoint is down: nothing admitted is given back.
    sink.pause();
    let weir = start(dir.path(), &sink);
    let addr = weir.grpc.unwrap();
    let (idle_kib, _) = weir.rss_kib();

    // 64 MiB declared, 16 KiB sent: it could never fit the 8 MiB budget.
    let answer = declare(addr, LOGS, 64 * MIB, 16 * 1024, &[]).expect("an answer");
    assert_eq!(answer.refused.code, Code::ResourceExhausted, "{answer:?}");
    assert!(answer.refused.message.contains("larger than"), "{answer:?}");
    assert_eq!(answer.refused.retry_after, None, "retrying cannot help");

    // A real client sending all 64 MiB: refused, and weir never held it.
    let mut client = Client::connect(addr);
    let started = Instant::now();
    let refused = client
        .export(LOGS, vec![0x0a; 64 * MIB as usize], &[])
        .unwrap_err();
    let latency = started.elapsed();
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message.contains("larger than"), "{refused:?}");
    let (_, peak_kib) = weir.rss_kib();
    eprintln!(
        "64 MiB message refused in {latency:?} (declared only: {:?}); RSS idle {idle_kib} KiB, peak {peak_kib} KiB",
        answer.latency
    );
    assert!(
        peak_kib < idle_kib + 24 * 1024,
        "weir's peak RSS grew by {} KiB: the message was read",
        peak_kib - idle_kib
    );

    // The Python gRPC client (C core) sees the same when cut short.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/grpc_raw.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(addr.to_string())
        .arg(LOGS)
        .args(["--repeat", &format!("0a:{}", 64 * MIB)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.starts_with("RESOURCE_EXHAUSTED") && text.contains("larger than"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The tenant's own budget (1 MiB) before the pipeline's (8 MiB).
    let tenant = [("x-scope-orgid", "small")];
    let answer = declare(addr, LOGS, 2 * MIB, 1024, &tenant).expect("an answer");
    assert_eq!(answer.refused.code, Code::ResourceExhausted, "{answer:?}");
    assert!(
        answer.refused.message.contains("tenant small"),
        "{answer:?}"
    );
    let refused = fill(&mut client, "small");
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    let answer = declare(addr, LOGS, 600 * 1024, 1024, &tenant).expect("an answer");
    assert_eq!(answer.refused.code, Code::ResourceExhausted, "{answer:?}");
    assert!(
        answer.refused.message.contains("tenant small"),
        "{answer:?}"
    );
    // A tenant budget's hint is 1 s (it has no check_interval of its own).
    assert_eq!(answer.refused.retry_after, Some(Duration::from_secs(1)));
    // Over HTTP, the tenant's budget refuses a Content-Length the same way.
    let reply = head_only(
        weir.http.unwrap(),
        &[("X-Scope-OrgID", "small")],
        600 * 1024,
    );
    assert!(reply.starts_with("http/1.1 429"), "{reply}");
    assert!(reply.contains("tenant small"), "{reply}");

    // Fill the pipeline's budget (the default tenant): a 4 MiB message that
    // would fit an empty budget is refused with a retry hint, unread.
    let refused = fill(&mut client, "default");
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    assert_eq!(refused.retry_after, Some(Duration::from_secs(2)));
    let answer = declare(addr, LOGS, 4 * MIB, 16 * 1024, &[]).expect("an answer");
    assert_eq!(answer.refused.code, Code::ResourceExhausted, "{answer:?}");
    assert!(answer.refused.message.contains("no room"), "{answer:?}");
    assert_eq!(answer.refused.retry_after, Some(Duration::from_secs(2)));
    // How long a refusal takes by message size, from a client sending it all.
    for mib in [1, 4, 16, 64] {
        let started = Instant::now();
        let refused = client
            .export(LOGS, vec![0x0a; (mib * MIB) as usize], &[])
            .unwrap_err();
        assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
        let sent_all = started.elapsed();
        let declared = declare(addr, LOGS, mib * MIB, 0, &[]).expect("an answer");
        assert_eq!(declared.refused.code, Code::ResourceExhausted);
        eprintln!(
            "{mib} MiB message refused in {sent_all:?} (client sending it all), {:?} (prefix only)",
            declared.latency
        );
    }
    let (_, peak_kib) = weir.rss_kib();
    assert!(
        peak_kib < idle_kib + 24 * 1024,
        "weir's peak RSS grew by {} KiB",
        peak_kib - idle_kib
    );
    let exhausted = weir.metric(
        "weir_receiver_requests_total",
        &[("transport", "grpc"), ("outcome", "exhausted")],
    );
    assert!(exhausted >= 4.0, "{}", weir.metrics());
}

/// A processor that returns more than it is given (here `attributes`
/// adding a 150-byte attribute to every record, 4-5 times the request) is charged for the difference:
/// the limiter refuses new requests once their bytes *plus* what the
/// processor added fill it, `plugin_output` shows the growth, plugin
/// instance memory is reported, and once the endpoint is back every
/// acknowledged record arrives and the account returns to zero.
#[test]
fn what_a_processor_adds_is_charged_to_the_request_s_budget() {
    use common::seqlogs::await_all;
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    sink.pause();
    let big = "y".repeat(150);
    // 40 MiB limit, 36 MiB spike: 4 MiB for requests, and the spike takes
    // the plugin instances' memory.
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: 40, spike_limit_mib: 36}}
  attributes: {{actions: [{{key: big, value: {big}, action: insert}}]}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    compression: none
    retry_on_failure: {{initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter, attributes], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    let weir = Weir::start(dir.path(), &config);
    let mut client = Client::connect(weir.grpc.unwrap());
    let (mut accepted, mut request_bytes) = (Vec::new(), 0usize);
    let mut refused = None;
    for block in 0..2000i64 {
        // 50 records of ~20 bytes of body each: ~2.2 KB in, ~10 KB out.
        let body = logs(block * 50, 50, 10);
        let len = body.len();
        match client.export(LOGS, body, &[]) {
            Ok(()) => {
                accepted.extend(block * 50..block * 50 + 50);
                request_bytes += len;
            }
            Err(r) => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("the budget never filled");
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    let budget = 4.0 * 1024.0 * 1024.0;
    let in_use = weir.metric("weir_memory_in_use_bytes", &[]);
    let grown = weir.metric("weir_memory_stage_bytes", &[("stage", "plugin_output")]);
    let plugins = weir.metric("weir_plugin_memory_bytes", &[]);
    eprintln!(
        "{} requests ({request_bytes} bytes) admitted; held {in_use} bytes, {grown} of them processor output beyond its input; plugin instances {plugins} bytes",
        accepted.len() / 50
    );
    // The requests alone are a small part of the budget: the growth filled it.
    assert!(
        (request_bytes as f64) < budget / 3.0,
        "{request_bytes} request bytes"
    );
    assert!(
        grown > 2.5 * request_bytes as f64,
        "{grown} bytes of growth"
    );
    assert_eq!(in_use, request_bytes as f64 + grown, "one account");
    assert!(in_use >= budget * 0.9, "{in_use} held");
    assert!(plugins > 0.0, "plugin instance memory not reported");

    sink.resume();
    let (_, missing, _) = await_all(&sink, &accepted, Duration::from_secs(120));
    common::seqlogs::assert_none_missing(&missing, accepted.len(), "never arrived");
    account_back_to_zero(&weir, "plugin_output");
    // Room again for a request.
    client
        .export(LOGS, logs(1_000_000, 50, 10), &[])
        .expect("admitted once the account is back");
}

/// Bytes waiting in the batcher are shown as the `batch` stage and held in
/// the limiter's account until the batch is exported.
#[test]
fn bytes_in_the_batcher_are_in_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, common::sink::always_ok());
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: 64, spike_limit_mib: 16}}
  batch: {{timeout: 4s, send_batch_size: 100000}}
exporters:
  otlphttp: {{endpoint: http://{addr}, compression: none}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    let weir = Weir::start(dir.path(), &config);
    let mut client = Client::connect(weir.grpc.unwrap());
    let mut sent = 0;
    for block in 0..3 {
        let body = logs(block * 10, 10, 100);
        sent += body.len();
        client.export(LOGS, body, &[]).expect("accepted");
    }
    let batch = weir.metric("weir_memory_stage_bytes", &[("stage", "batch")]);
    let in_use = weir.metric("weir_memory_in_use_bytes", &[]);
    assert_eq!(batch, sent as f64, "{}", weir.metrics());
    assert_eq!(in_use, sent as f64);
    // After the timeout the merged batch goes out, and the bytes with it.
    let got = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(common::seqlogs::seqs(&got[0]).len(), 30);
    account_back_to_zero(&weir, "batch");
}

/// Plugin instance memory beyond the spike headroom is taken from what
/// requests may hold: with a 1 MiB spike and a few MiB of plugin
/// instances, the limiter refuses well before the requests fill
/// `limit - spike`.
#[test]
fn plugin_memory_beyond_the_spike_is_taken_from_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    sink.pause();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: 6, spike_limit_mib: 1}}
  attributes: {{actions: [{{key: team, value: acme, action: insert}}]}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    retry_on_failure: {{initial_interval: 1s, max_elapsed_time: 0s}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter, attributes], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    let weir = Weir::start(dir.path(), &config);
    let mut client = Client::connect(weir.grpc.unwrap());
    let refused = fill(&mut client, "default");
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message.contains("plugin memory"), "{refused:?}");
    let budget = 5.0 * 1024.0 * 1024.0;
    let spike = 1024.0 * 1024.0;
    let in_use = weir.metric("weir_memory_in_use_bytes", &[]);
    let plugins = weir.metric("weir_plugin_memory_bytes", &[]);
    eprintln!("refused at {in_use} bytes held, plugin instances {plugins} bytes");
    assert!(
        plugins > spike,
        "plugin instances hold only {plugins} bytes"
    );
    // held + max(plugins, spike) stays within the limit, give or take a request.
    let request = logs(0, 100, 1000).len() as f64;
    assert!(in_use + (plugins - spike) <= budget, "{in_use} + {plugins}");
    assert!(
        in_use + (plugins - spike) + 2.0 * request > budget,
        "refused with room left: {in_use} + {plugins}"
    );
}

/// What a stateful processor releases on `tick` is in host memory until it
/// is exported: charged to the pipeline's limiter (`plugin_output`), and
/// given back once the endpoint takes it.
#[test]
fn what_a_stateful_processor_releases_is_in_the_account() {
    use common::seqlogs::await_all;
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    sink.pause();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: 64, spike_limit_mib: 16}}
  chaos: {{stateful: true}}
plugins:
  chaos:
    path: {plugins}/chaos.wasm
    limits: {{tick_interval: 200ms}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    compression: none
    retry_on_failure: {{initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter, chaos], exporters: [otlphttp]}}
"#,
        addr = sink.addr,
        plugins = common::PLUGIN_DIR
    );
    let weir = Weir::start(dir.path(), &config);
    let mut client = Client::connect(weir.grpc.unwrap());
    let mut accepted = Vec::new();
    for block in 0..5 {
        client
            .export(LOGS, logs(block * 10, 10, 100), &[])
            .expect("accepted");
        accepted.extend(block * 10..block * 10 + 10);
    }
    // Released on a tick into a queue whose endpoint is down: held, and charged.
    weir.wait_for("the release charged", Duration::from_secs(30), |w| {
        w.metric("weir_memory_stage_bytes", &[("stage", "plugin_output")]) > 0.0
    });
    let charged = weir.metric("weir_memory_stage_bytes", &[("stage", "plugin_output")]);
    assert!(weir.metric("weir_memory_in_use_bytes", &[]) >= charged);
    sink.resume();
    let (_, missing, _) = await_all(&sink, &accepted, Duration::from_secs(60));
    assert!(missing.is_empty(), "{missing:?}");
    account_back_to_zero(&weir, "plugin_output");
}

/// Room is held for a body while it is read: clients that declared more
/// than the room left between them cannot all be read at once. Two 3 MiB
/// messages being sent (slowly) hold 6 MiB of an 8 MiB budget; a third is
/// refused at once, unread; once the first two are gone the room is back.
#[test]
fn bodies_being_read_hold_their_room() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, common::sink::always_ok());
    let weir = start(dir.path(), &sink);
    let addr = weir.grpc.unwrap();
    // Each declares 3 MiB, sends 1 KiB, and never the rest (its answer
    // never comes: `declare` gives up after 10 s and hangs up).
    let slow: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || declare(addr, LOGS, 3 * MIB, 1024, &[])))
        .collect();
    weir.wait_for("both bodies being read", Duration::from_secs(8), |w| {
        w.metric("weir_memory_stage_bytes", &[("stage", "receive")]) == (6 * MIB) as f64
    });
    let answer = declare(addr, LOGS, 3 * MIB, 1024, &[]).expect("an answer");
    assert_eq!(answer.refused.code, Code::ResourceExhausted, "{answer:?}");
    assert!(answer.refused.message.contains("no room"), "{answer:?}");
    for s in slow {
        assert!(s.join().unwrap().is_none(), "a slow body was answered");
    }
    account_back_to_zero(&weir, "receive");
    // And a request fits again.
    Client::connect(addr)
        .export(LOGS, logs(0, 10, 100), &[])
        .expect("accepted");
}
