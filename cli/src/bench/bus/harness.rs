//! The two-process harness: which CPUs the parent and its peer run on, spawning the peer
//! (this very binary, re-executed with the hidden `--child` arguments), and making sure
//! a peer never outlives a failed or panicking parent.
//!
//! It does not measure anything and knows nothing of buses or sockets beyond a socket
//! path it cleans up.

use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use shoal_core::native::shm;

use super::{ChildArgs, Role, Wait};

/// How long a peer may go without traffic before it gives up and exits on its own, and
/// how long the parent waits for a peer to show up or to finish.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// How long the parent waits for a peer to connect or create its endpoint.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// Where the parent and its peers run.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    /// CPUs this process may run on (from `Cpus_allowed_list`).
    pub allowed: Vec<usize>,
    /// The CPU the parent pinned itself to, if it did.
    pub parent_cpu: Option<usize>,
    /// The CPU every peer pins itself to, if any.
    pub child_cpu: Option<usize>,
    /// Why there is no pinning, when there is none.
    pub note: Option<String>,
}

impl Placement {
    /// Pins the calling thread (the parent's only measuring thread) to the first allowed
    /// CPU and assigns the second to peers; with fewer than two CPUs nothing is pinned.
    pub fn pin_parent() -> Placement {
        let allowed = allowed_cpus();
        if allowed.len() < 2 {
            return Placement {
                allowed,
                parent_cpu: None,
                child_cpu: None,
                note: Some(
                    "fewer than 2 CPUs: parent and peer share one CPU, not pinned".to_owned(),
                ),
            };
        }
        match shm::pin_current_thread(allowed[0]) {
            Ok(()) => Placement {
                parent_cpu: Some(allowed[0]),
                child_cpu: Some(allowed[1]),
                allowed,
                note: None,
            },
            Err(e) => Placement {
                allowed,
                parent_cpu: None,
                child_cpu: None,
                note: Some(format!("not pinned: {e}")),
            },
        }
    }

    /// `parent on CPU 0, peer on CPU 1` or the reason there is no pinning.
    pub fn describe(&self) -> String {
        match (self.parent_cpu, self.child_cpu, &self.note) {
            (Some(p), Some(c), _) => format!("parent on CPU {p}, peer on CPU {c}"),
            (_, _, Some(n)) => n.clone(),
            _ => "not pinned".to_owned(),
        }
    }
}

/// The CPUs this process may run on: `Cpus_allowed_list` of `/proc/self/status`, or
/// `0 .. available_cpus()` when that cannot be read.
pub fn allowed_cpus() -> Vec<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .and_then(|v| parse_cpu_list(v.trim()))
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| (0..shm::available_cpus()).collect())
}

/// Parses a kernel CPU list such as `0-3,8,10-11`; `None` if malformed.
pub fn parse_cpu_list(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                if b < a {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// What a peer is asked to do (turned into hidden command-line arguments).
#[derive(Debug, Clone)]
pub struct PeerSpec<'a> {
    /// Echo or sink, over the bus or a socket.
    pub role: Role,
    /// Bus name or socket path.
    pub name: &'a str,
    /// CPU to pin to.
    pub cpu: Option<usize>,
    /// Message size in bytes.
    pub size: usize,
    /// How the peer waits on the bus.
    pub wait: Wait,
    /// Round trips to answer (echo roles).
    pub count: u64,
}

impl PeerSpec<'_> {
    fn to_args(&self) -> ChildArgs {
        ChildArgs {
            role: Some(self.role),
            name: self.name.to_owned(),
            cpu: self.cpu,
            size: self.size,
            wait: self.wait,
            count: self.count,
        }
    }
}

/// A running peer process. Dropping it kills and reaps the process, so a parent that
/// returns an error or panics leaves no peer behind; [`Peer::finish`] is the orderly end.
pub struct Peer {
    child: Option<Child>,
    what: String,
}

impl Peer {
    /// Re-executes this binary as `shoal bench bus --child …`.
    pub fn spawn(spec: &PeerSpec<'_>) -> io::Result<Peer> {
        let exe = std::env::current_exe()?;
        let child = Command::new(exe)
            .args(["bench", "bus"])
            .args(spec.to_args().to_command_line())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Peer {
            child: Some(child),
            what: format!("{} peer ({} B)", spec.role.label(), spec.size),
        })
    }

    /// An error if the peer has already exited (for loops that wait on it).
    pub fn check_alive(&mut self) -> io::Result<()> {
        let Some(child) = self.child.as_mut() else {
            return Err(io::Error::other(format!("{} already finished", self.what)));
        };
        match child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(io::Error::other(format!(
                "{} exited early ({status})",
                self.what
            ))),
        }
    }

    /// Waits for the peer to exit by itself (at most `limit`, then it is killed) and
    /// checks that it succeeded.
    pub fn finish(mut self, limit: Duration) -> io::Result<()> {
        let mut child = self.child.take().expect("peer finished twice");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(io::Error::other(format!("{} failed ({status})", self.what)))
                };
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "{} did not exit within {limit:?}; killed",
                    self.what
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Unix socket path in the temporary directory, removed when dropped.
pub struct SocketPath {
    path: PathBuf,
}

impl SocketPath {
    /// A fresh path `shoal-bench-<pid>-<tag>.sock` (an old file there is removed).
    pub fn new(tag: &str) -> SocketPath {
        let path =
            std::env::temp_dir().join(format!("shoal-bench-{}-{tag}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        SocketPath { path }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as a string (for the peer's command line).
    pub fn as_str(&self) -> io::Result<&str> {
        self.path
            .to_str()
            .ok_or_else(|| io::Error::other("temporary directory is not valid UTF-8"))
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Accepts the peer's connection on a non-blocking `listener`, giving up if the peer
/// exits or [`STARTUP_LIMIT`] passes. The stream returned is blocking.
pub fn accept_peer(listener: &UnixListener, peer: &mut Peer) -> io::Result<UnixStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + STARTUP_LIMIT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        peer.check_alive()?;
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the socket peer did not connect",
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Nanoseconds one `Instant::now()` costs (median of a few runs of 100 000 reads): the
/// overhead included in every individually timed sample.
pub fn clock_overhead_ns() -> f64 {
    const READS: u32 = 100_000;
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..READS {
                std::hint::black_box(Instant::now());
            }
            t.elapsed().as_nanos() as f64 / f64::from(READS)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_like_the_kernel_prints_them() {
        assert_eq!(parse_cpu_list("0-1"), Some(vec![0, 1]));
        assert_eq!(
            parse_cpu_list("0-3,8,10-11"),
            Some(vec![0, 1, 2, 3, 8, 10, 11])
        );
        assert_eq!(parse_cpu_list("5"), Some(vec![5]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
        assert!(!allowed_cpus().is_empty());
    }

    #[test]
    fn socket_path_is_removed_on_drop() {
        let p = SocketPath::new("test-drop");
        let path = p.path().to_owned();
        let listener = UnixListener::bind(&path).unwrap();
        assert!(path.exists());
        drop(listener);
        drop(p);
        assert!(!path.exists());
    }
}
