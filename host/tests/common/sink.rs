//! A loopback HTTP server (HTTP/1.1 and HTTP/2, optionally TLS) that
//! records every request and answers as the test says: the far end of a
//! network exporter. It can be stopped and started again on the same port
//! to play an outage.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
    /// HTTP/2 or HTTP/1.1.
    pub version: http::Version,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body with its `Content-Encoding` (gzip, zstd, snappy) undone.
    pub fn decoded(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            Some("gzip") => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("valid gzip");
                out
            }
            Some("zstd") => zstd::stream::decode_all(&self.body[..]).expect("valid zstd"),
            Some("snappy") => snap::raw::Decoder::new()
                .decompress_vec(&self.body)
                .expect("valid snappy block"),
            _ => self.body.clone(),
        }
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Decides the answer to the `n`th request (0-based, counted across restarts).
pub type Responder = Arc<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

/// Answers 200 to everything.
pub fn always_ok() -> Responder {
    Arc::new(|_, _| Reply::status(200))
}

/// Answers 200 to everything, after `delay` per request (a live but slow
/// endpoint).
pub fn slow_ok(delay: Duration) -> Responder {
    Arc::new(move |_, _| {
        std::thread::sleep(delay);
        Reply::status(200)
    })
}

/// A running server; dropping it stops it.
pub struct Sink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    respond: Responder,
    tls: Option<Arc<rustls::ServerConfig>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Sink {
    /// Starts on a free loopback port.
    pub fn start(tls: Option<Arc<rustls::ServerConfig>>, respond: Responder) -> Sink {
        let mut sink = Sink {
            addr: "127.0.0.1:0".parse().unwrap(),
            received: Arc::new(Mutex::new(Vec::new())),
            respond,
            tls,
            runtime: None,
        };
        sink.resume();
        sink
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests have arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if Instant::now() > deadline {
                panic!("expected {n} requests, got {} in {timeout:?}", got.len());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops listening and drops every open connection.
    pub fn pause(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }

    /// Listens again on the same address.
    pub fn resume(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::net::TcpListener::bind(self.addr).await {
                    Ok(l) => return l,
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("rebinding {}: {e}", self.addr);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("cannot bind {}: {e}", self.addr),
                }
            }
        });
        self.addr = listener.local_addr().unwrap();
        let received = self.received.clone();
        let respond = self.respond.clone();
        let acceptor = self.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (received, respond, acceptor) =
                    (received.clone(), respond.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<Incoming>| {
                        let (received, respond) = (received.clone(), respond.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let r = Received {
                                path: parts.uri.path().to_string(),
                                headers: parts.headers,
                                body: body.to_vec(),
                                at: Instant::now(),
                                version: parts.version,
                            };
                            let reply = {
                                let mut all = received.lock().unwrap();
                                let reply = respond(&r, all.len());
                                all.push(r);
                                reply
                            };
                            let mut response = http::Response::builder().status(reply.status);
                            for (k, v) in &reply.headers {
                                response = response.header(k, v);
                            }
                            Ok::<_, std::convert::Infallible>(
                                response.body(Full::new(Bytes::from(reply.body))).unwrap(),
                            )
                        }
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                        }
                    }
                });
            }
        });
        self.runtime = Some(runtime);
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.pause();
    }
}

/// A TLS server config from the files `weir certs generate` wrote in `dir`;
/// with `client_ca`, clients must present a certificate from that CA.
pub fn tls_config(dir: &std::path::Path, client_ca: bool) -> Arc<rustls::ServerConfig> {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let certs: Vec<_> = rustls_pemfile::certs(&mut read("server.crt").as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut read("server.key").as_slice())
        .unwrap()
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut read("ca.crt").as_slice()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(certs, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}
