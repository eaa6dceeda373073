//! The receiving host of `shoal bench route`: a node that takes routed payloads into
//! a sink that only touches them, and a plain TCP echo server on the next port.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use shoal_core::native::net::{Node, NodeConfig};
use shoal_core::router::Deliver;

/// Takes routed payloads, reading their first and last byte (so they are really
/// there) and nothing more: the cost measured is the transport's.
struct Touch;

impl Deliver for Touch {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, _o: &str, _k: &[u8], p: &[u8]) -> Result<(), Self::Error> {
        std::hint::black_box(p.first().copied().unwrap_or(0) ^ p.last().copied().unwrap_or(0));
        Ok(())
    }
}

fn echo(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 64 << 10];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// Runs until stdin closes: prints `ready` once both listeners are up.
pub fn run(bind: SocketAddr) -> crate::CliResult {
    let mut cfg = NodeConfig::new(bind);
    cfg.id = Some("server".into());
    let node = Node::start(cfg)?;
    node.serve_routes(Touch);
    let echo_at = SocketAddr::new(bind.ip(), bind.port() + 1);
    let listener = TcpListener::bind(echo_at)?;
    std::thread::spawn(move || {
        for s in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || echo(s));
        }
    });
    println!("ready");
    std::io::stdout().flush()?;
    let mut line = String::new();
    while std::io::stdin().lock().read_line(&mut line)? > 0 {
        line.clear();
    }
    drop(node);
    Ok(())
}
