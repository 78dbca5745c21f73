//! The attacks, each returning whether the sandbox let it through.

/// What an attempt to reach outside came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Escaped(String),
    Denied(String),
}

/// A TCP socket to 127.0.0.1:`port`, through WASI sockets directly.
#[cfg(target_arch = "wasm32")]
pub fn socket(port: u16) -> Outcome {
    use wasip2::sockets::instance_network::instance_network;
    use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    use wasip2::sockets::tcp_create_socket::create_tcp_socket;
    let socket = match create_tcp_socket(IpAddressFamily::Ipv4) {
        Ok(s) => s,
        Err(e) => return Outcome::Denied(format!("create-tcp-socket: {e:?}")),
    };
    let network = instance_network();
    let addr = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (127, 0, 0, 1),
    });
    if let Err(e) = socket.start_connect(&network, addr) {
        return Outcome::Denied(format!("start-connect: {e:?}"));
    }
    socket.subscribe().block();
    match socket.finish_connect() {
        Ok(_) => Outcome::Escaped(format!("connected to 127.0.0.1:{port}")),
        Err(e) => Outcome::Denied(format!("finish-connect: {e:?}")),
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub fn socket(port: u16) -> Outcome {
    match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => Outcome::Escaped(format!("connected to 127.0.0.1:{port}")),
        Err(e) => Outcome::Denied(e.to_string()),
    }
}

pub fn file(path: &str) -> Outcome {
    match std::fs::read(path) {
        Ok(bytes) => Outcome::Escaped(format!("read {} bytes of {path}", bytes.len())),
        Err(e) => Outcome::Denied(format!("{path}: {e}")),
    }
}

pub fn env(var: &str) -> Outcome {
    match std::env::var(var) {
        Ok(value) => Outcome::Escaped(format!("{var} has {} characters", value.len())),
        Err(e) => Outcome::Denied(format!("{var}: {e}")),
    }
}

pub fn clock() -> Outcome {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    if since.as_secs() > 1_000_000_000 {
        Outcome::Escaped(format!("the wall clock says {}s", since.as_secs()))
    } else {
        Outcome::Denied(format!("the wall clock says {}s", since.as_secs()))
    }
}

/// An HTTP request through `wasi:http/outgoing-handler` (never reached:
/// the import alone refuses the plugin).
#[cfg(all(feature = "http", target_arch = "wasm32"))]
pub fn http() -> Outcome {
    use wasip2::http::outgoing_handler::handle;
    use wasip2::http::types::{Fields, OutgoingRequest};
    match handle(OutgoingRequest::new(Fields::new()), None) {
        Ok(_) => Outcome::Escaped("sent an HTTP request".into()),
        Err(e) => Outcome::Denied(format!("{e:?}")),
    }
}

#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub fn http() -> Outcome {
    Outcome::Denied("not in a sandbox".into())
}

#[allow(clippy::empty_loop)]
pub fn spin() -> Outcome {
    loop {
        std::hint::black_box(());
    }
}

pub fn alloc() -> Outcome {
    let mut v = vec![0u8; 1 << 30];
    // Touch every page so the allocation is real.
    for i in (0..v.len()).step_by(4096) {
        v[i] = 1;
    }
    Outcome::Escaped(format!("allocated {} bytes", std::hint::black_box(v).len()))
}

pub fn trap() -> Outcome {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("trap")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_and_variable_are_denied() {
        assert!(matches!(file("/nonexistent/weir"), Outcome::Denied(_)));
        assert!(matches!(
            env("WEIR_HOSTILE_UNSET_VARIABLE"),
            Outcome::Denied(_)
        ));
    }
}
