//! [`ProcessId`]: which process, robust to pid reuse, and whether it still runs.
//!
//! A pid alone is not an identity: once a process dies and is reaped, the kernel may give
//! its pid to an unrelated process. Pairing the pid with the process's start time (from
//! `/proc/<pid>/stat`) names exactly one process for the life of the host. Used to tell
//! whether the holder of shared resources is still there; this file only answers that
//! question and decides nothing about the resources.

use alloc::format;
use alloc::string::String;
use std::io;

/// A process on this host: its pid and its start time, so that a pid reused by a later
/// process is not mistaken for the original.
///
/// Pids are those of the reader's pid namespace (the one `/proc` is mounted for):
/// processes that share segments must see the same pids, i.e. run in the same pid
/// namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessId {
    /// The process id.
    pub pid: u32,
    /// Start time of the process in clock ticks since boot: field 22 (`starttime`) of
    /// `/proc/<pid>/stat`.
    pub start_time: u64,
}

/// What this file reads from `/proc/<pid>/stat`.
struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z`, `X`, …
    state: u8,
    /// Field 22.
    start_time: u64,
}

impl ProcessId {
    /// The identity of the calling process.
    ///
    /// # Errors
    ///
    /// If `/proc/self/stat` cannot be read or parsed (for example, `/proc` is not
    /// mounted).
    pub fn current() -> io::Result<ProcessId> {
        let pid = std::process::id();
        match read_stat(pid)? {
            Some(stat) => Ok(ProcessId {
                pid,
                start_time: stat.start_time,
            }),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("/proc/{pid}/stat of this very process does not exist; is /proc mounted?"),
            )),
        }
    }

    /// The identity of the process `pid` now, or `None` if there is no such process.
    ///
    /// A process that has exited but has not been reaped by its parent (a zombie) still
    /// has an identity; [`is_alive`](Self::is_alive) says it is not alive.
    ///
    /// # Errors
    ///
    /// If `/proc/<pid>/stat` exists but cannot be read or parsed.
    pub fn of(pid: u32) -> io::Result<Option<ProcessId>> {
        Ok(read_stat(pid)?.map(|stat| ProcessId {
            pid,
            start_time: stat.start_time,
        }))
    }

    /// Whether this process still runs: `/proc/<pid>/stat` exists, shows the same start
    /// time (so the pid was not reused), and the process is neither a zombie (`Z`) nor
    /// dead (`X`). A process that was killed but not yet reaped counts as dead.
    ///
    /// If `/proc/<pid>/stat` cannot be read (for example, `/proc` hides other users'
    /// processes) the process counts as not alive.
    pub fn is_alive(&self) -> bool {
        match read_stat(self.pid) {
            Ok(Some(stat)) => {
                stat.start_time == self.start_time && !matches!(stat.state, b'Z' | b'X')
            }
            Ok(None) | Err(_) => false,
        }
    }
}

/// Reads `/proc/<pid>/stat`; `None` when the process does not exist.
fn read_stat(pid: u32) -> io::Result<Option<Stat>> {
    let path = format!("/proc/{pid}/stat");
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        // ENOENT: no such process. ESRCH: it exited between open and read.
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                || e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io::Error::new(e.kind(), format!("cannot read {path}: {e}"))),
    };
    parse_stat(&text).map(Some).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "cannot parse {path}: {:?}",
                String::from_utf8_lossy(&text[..text.len().min(200)])
            ),
        )
    })
}

/// Parses the state and start time out of a `/proc/<pid>/stat` line.
///
/// The line is `pid (comm) state ppid …`; `comm` is the executable's name and may itself
/// contain spaces and `)`, so the fields start after the **last** `)`.
fn parse_stat(text: &[u8]) -> Option<Stat> {
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = core::str::from_utf8(&text[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3 is the first after `)`; field 22 is 19 further on.
    let state = fields.next()?;
    let [state] = state.as_bytes() else {
        return None;
    };
    let start_time = fields.nth(18)?.parse().ok()?;
    Some(Stat {
        state: *state,
        start_time,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn comm_with_spaces_and_parentheses() {
        let line = b"4242 (a) b) (c ) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.state, b'S');
        assert_eq!(stat.start_time, 987654);
    }

    #[test]
    fn truncated_or_garbled_lines_are_rejected() {
        assert!(parse_stat(b"").is_none());
        assert!(parse_stat(b"1 (x) S 1 2 3").is_none());
        assert!(parse_stat(b"1 x S 1").is_none());
        assert!(parse_stat(b"1 (x) SS 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 5").is_none());
    }
}
