//! A minimal HTTP/1.1 server on 127.0.0.1 for the page: static files from the web
//! folder, `GET /api/state` (the latest snapshot) and `GET /api/events` (server-sent
//! events). One request per connection (`Connection: close`), one thread per
//! connection, at most [`MAX_CONNECTIONS`] at once; `GET` and `HEAD` only.
//!
//! Hand-rolled on `std::net` rather than on a server crate: an event stream must reach
//! the browser as each event is written, with no response buffering in between.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::Shared;

/// Connections served at once; more are answered 503.
const MAX_CONNECTIONS: usize = 64;
/// Longest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Read and write timeout of a connection.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The running server.
pub struct Server {
    addr: SocketAddr,
    thread: JoinHandle<()>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the accept loop to end (once the demo is stopping). Connection
    /// threads notice within a quarter second and close.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Listens on 127.0.0.1:`port` (0: any free port) and serves until the demo stops.
pub fn start(port: u16, web: PathBuf, shared: Arc<Shared>) -> io::Result<Server> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let addr = listener.local_addr()?;
    // Polled, so the loop notices the stop flag.
    listener.set_nonblocking(true)?;
    let active = Arc::new(AtomicUsize::new(0));
    let thread = std::thread::Builder::new()
        .name("shoal-demo-http".into())
        .spawn(move || {
            while !shared.stopping() {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if active.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                            active.fetch_sub(1, Ordering::AcqRel);
                            let _ = refuse(stream);
                            continue;
                        }
                        let (shared, web, done) = (shared.clone(), web.clone(), active.clone());
                        let spawned = std::thread::Builder::new()
                            .name("shoal-demo-conn".into())
                            .spawn(move || {
                                let _ = serve(stream, &web, &shared);
                                done.fetch_sub(1, Ordering::AcqRel);
                            });
                        if let Err(e) = spawned {
                            // The connection was counted but will never be served.
                            active.fetch_sub(1, Ordering::AcqRel);
                            eprintln!("shoal demo: http: no thread for a connection: {e}");
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => {
                        eprintln!("shoal demo: http: accept: {e}");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        })?;
    Ok(Server { addr, thread })
}

fn refuse(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    respond(
        &mut stream,
        "503 Service Unavailable",
        TEXT,
        b"busy\n",
        false,
    )
}

const TEXT: &str = "text/plain; charset=utf-8";

/// Serves one request.
fn serve(mut stream: TcpStream, web: &Path, shared: &Shared) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let Some(head) = read_head(&mut stream)? else {
        return respond(
            &mut stream,
            "400 Bad Request",
            TEXT,
            b"bad request\n",
            false,
        );
    };
    let mut parts = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            return respond(
                &mut stream,
                "405 Method Not Allowed",
                TEXT,
                b"GET or HEAD only\n",
                false,
            );
        }
    };
    let path = target.split(['?', '#']).next().unwrap_or("");
    match path {
        "/api/state" => {
            let json = shared.hub.latest();
            respond(
                &mut stream,
                "200 OK",
                "application/json",
                json.as_bytes(),
                head_only,
            )
        }
        "/api/events" if !head_only => events(stream, shared),
        _ => match static_file(web, path) {
            Ok((body, kind)) => respond(&mut stream, "200 OK", kind, &body, head_only),
            Err(status) => {
                let body = format!("{status}\n");
                respond(&mut stream, status, TEXT, body.as_bytes(), head_only)
            }
        },
    }
}

/// Reads up to the blank line that ends the request head. `None` if the head is too
/// long or not text.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8(buf).ok())
}

/// Writes a whole response and closes.
fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// `GET /api/events`: a snapshot at once, then every event and snapshot as the hub
/// publishes them, until the client goes away or the demo stops.
fn events(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let (first, rx) = shared.hub.subscribe();
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\nretry: 1000\n\n",
    )?;
    stream.write_all(first.as_bytes())?;
    stream.flush()?;
    while !shared.stopping() {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(message) => {
                stream.write_all(message.as_bytes())?;
                stream.flush()?;
            }
            Err(RecvTimeoutError::Timeout) => {}
            // Dropped by the hub: too far behind.
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(())
}

/// The file for URL path `path` under `web` and its content type, or the error status.
fn static_file(web: &Path, path: &str) -> Result<(Vec<u8>, &'static str), &'static str> {
    const NOT_FOUND: &str = "404 Not Found";
    let decoded = percent_decode(path).ok_or("400 Bad Request")?;
    if !decoded.starts_with('/') || decoded.contains(['\\', '\0']) {
        return Err("400 Bad Request");
    }
    let mut file = web.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err("400 Bad Request"),
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    // Symbolic links must not lead out of the web folder either.
    let root = web.canonicalize().map_err(|_| NOT_FOUND)?;
    let real = file.canonicalize().map_err(|_| NOT_FOUND)?;
    if !real.starts_with(&root) || !real.is_file() {
        return Err(NOT_FOUND);
    }
    let body = std::fs::read(&real).map_err(|_| NOT_FOUND)?;
    Ok((body, content_type(&real)))
}

/// The content type by file extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "ts" | "md" => TEXT,
        _ => "application/octet-stream",
    }
}

/// Decodes `%XX` escapes; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_traversal_is_refused() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%2e%2e/x").as_deref(), Some("/../x"));
        assert_eq!(percent_decode("/%zz"), None);
        let dir = std::env::temp_dir();
        assert_eq!(
            static_file(&dir, "/../etc/passwd").err(),
            Some("400 Bad Request")
        );
        assert_eq!(
            static_file(&dir, "/%2e%2e/etc/passwd").err(),
            Some("400 Bad Request")
        );
        assert_eq!(
            static_file(&dir, "/a\\..\\b").err(),
            Some("400 Bad Request")
        );
    }

    #[test]
    fn content_types_follow_the_contract() {
        assert_eq!(
            content_type(Path::new("x/shoal_wasm_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(content_type(Path::new("a.mjs")), "text/javascript");
        assert_eq!(content_type(Path::new("a.js")), "text/javascript");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
    }
}
