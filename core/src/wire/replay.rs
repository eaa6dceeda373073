//! Replay protection: a sliding window of recently accepted sequence numbers per sender
//! session, for a bounded number of sessions.
//!
//! This module owns only the bookkeeping of "which (session, sequence) pairs were
//! accepted". It must be consulted *after* a datagram's tag verified (the
//! [`Codec`](super::Codec) does so), so forged datagrams can neither fill the table nor
//! move a window.
//!
//! # The window
//!
//! As in IPsec and WireGuard, each session keeps the highest sequence number accepted
//! so far and a 64-bit bitmap of which of the `window` numbers at and below it were
//! seen. A datagram is accepted when its number is above the highest (the window
//! slides forward), or inside the window and not yet seen (reordering is tolerated);
//! it is [`Replayed`](super::Reject::Replayed) when its bit is set, and
//! [`TooOld`](super::Reject::TooOld) when it is `window` or more below the highest.
//!
//! # Bounded memory
//!
//! At most `max_sessions` windows are kept. A new session beyond that evicts the
//! session whose last accepted datagram is the oldest (least recently used, by a
//! counter — no clock, no randomized hashing, so the result is deterministic).
//!
//! # Limits (what this does not protect against)
//!
//! * A receiver that restarts, or that evicted a session, has forgotten its window: the
//!   first datagram it then sees from that session is accepted whatever its number, so
//!   an old datagram replayed at that moment gets through once. Gossip is built for
//!   this — merges keep the highest incarnation/heartbeat, so a replayed old update
//!   changes nothing — but it is still rejected whenever the window knows the session.
//! * In plain mode (no keyring) anyone can forge datagrams, including fresh sessions
//!   that evict real ones; the window then only filters accidental duplicates.

use alloc::collections::BTreeMap;

use super::error::Reject;

/// Replay window parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayConfig {
    /// How far behind the highest accepted sequence number a datagram may arrive and
    /// still be accepted, `1..=64` (default 64).
    pub window: u32,
    /// Most sender sessions remembered at once, at least 1 (default 1024). Each costs
    /// a few dozen bytes.
    pub max_sessions: usize,
}

impl ReplayConfig {
    /// Largest supported window (the bitmap is 64 bits).
    pub const MAX_WINDOW: u32 = 64;

    /// Checks the ranges documented on the fields.
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        if self.window == 0 || self.window > Self::MAX_WINDOW {
            return Err("replay window must be between 1 and 64");
        }
        if self.max_sessions == 0 {
            return Err("replay max_sessions must be at least 1");
        }
        Ok(())
    }
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            window: Self::MAX_WINDOW,
            max_sessions: 1024,
        }
    }
}

/// The window of one session.
#[derive(Debug, Clone)]
struct Window {
    /// Highest sequence number accepted.
    highest: u64,
    /// Bit `i` set: `highest - i` was accepted.
    seen: u64,
    /// Use counter value of the last accepted datagram (key in `by_use`).
    last_use: u64,
}

/// Windows of up to `max_sessions` sessions, least recently used evicted first.
#[derive(Debug, Clone)]
pub(crate) struct ReplayFilter {
    config: ReplayConfig,
    windows: BTreeMap<u64, Window>,
    /// Last use → session: the first entry is the least recently used session.
    by_use: BTreeMap<u64, u64>,
    /// Incremented on every accepted datagram.
    uses: u64,
}

impl ReplayFilter {
    /// An empty filter. `config` must have passed [`ReplayConfig::validate`].
    pub(crate) fn new(config: ReplayConfig) -> Self {
        ReplayFilter {
            config,
            windows: BTreeMap::new(),
            by_use: BTreeMap::new(),
            uses: 0,
        }
    }

    /// Number of sessions currently remembered.
    #[cfg(test)]
    pub(crate) fn sessions(&self) -> usize {
        self.windows.len()
    }

    /// Accepts `(session, sequence)` and records it, or says why not (recording
    /// nothing).
    pub(crate) fn accept(&mut self, session: u64, sequence: u64) -> Result<(), Reject> {
        self.uses += 1;
        let now = self.uses;
        match self.windows.get_mut(&session) {
            Some(w) => {
                if sequence > w.highest {
                    let ahead = sequence - w.highest;
                    w.seen = if ahead >= 64 {
                        1
                    } else {
                        (w.seen << ahead) | 1
                    };
                    w.highest = sequence;
                } else {
                    let behind = w.highest - sequence;
                    if behind >= u64::from(self.config.window) {
                        return Err(Reject::TooOld);
                    }
                    let bit = 1u64 << behind;
                    if w.seen & bit != 0 {
                        return Err(Reject::Replayed);
                    }
                    w.seen |= bit;
                }
                self.by_use.remove(&w.last_use);
                w.last_use = now;
                self.by_use.insert(now, session);
            }
            None => {
                if self.windows.len() >= self.config.max_sessions {
                    if let Some((_, oldest)) = self.by_use.pop_first() {
                        self.windows.remove(&oldest);
                    }
                }
                self.windows.insert(
                    session,
                    Window {
                        highest: sequence,
                        seen: 1,
                        last_use: now,
                    },
                );
                self.by_use.insert(now, session);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(window: u32, max_sessions: usize) -> ReplayFilter {
        let config = ReplayConfig {
            window,
            max_sessions,
        };
        config.validate().unwrap();
        ReplayFilter::new(config)
    }

    #[test]
    fn config_ranges() {
        assert!(ReplayConfig::default().validate().is_ok());
        let bad = |window, max_sessions| {
            ReplayConfig {
                window,
                max_sessions,
            }
            .validate()
            .is_err()
        };
        assert!(bad(0, 1));
        assert!(bad(65, 1));
        assert!(bad(64, 0));
        assert!(!bad(1, 1));
    }

    #[test]
    fn duplicates_rejected_reordering_accepted() {
        let mut f = filter(64, 4);
        assert_eq!(f.accept(7, 10), Ok(()));
        assert_eq!(f.accept(7, 10), Err(Reject::Replayed));
        assert_eq!(f.accept(7, 12), Ok(()));
        assert_eq!(f.accept(7, 11), Ok(())); // late but in window
        assert_eq!(f.accept(7, 11), Err(Reject::Replayed));
        assert_eq!(f.accept(7, 12), Err(Reject::Replayed));
        // Lower than the first number seen, still inside the window.
        assert_eq!(f.accept(7, 0), Ok(()));
        // Another session has its own window.
        assert_eq!(f.accept(8, 10), Ok(()));
    }

    #[test]
    fn window_edges() {
        let mut f = filter(64, 4);
        f.accept(1, 100).unwrap();
        assert_eq!(f.accept(1, 100 - 64), Err(Reject::TooOld));
        assert_eq!(f.accept(1, 100 - 63), Ok(()));
        // Jump far ahead: the old bitmap is gone entirely.
        f.accept(1, 1_000).unwrap();
        assert_eq!(f.accept(1, 999), Ok(()));
        assert_eq!(f.accept(1, 1_000 - 63), Ok(()));
        assert_eq!(f.accept(1, 100), Err(Reject::TooOld));
        // Slide by exactly 63 keeps the old top bit at the window's bottom.
        f.accept(1, 1_063).unwrap();
        assert_eq!(f.accept(1, 1_000), Err(Reject::Replayed));
        assert_eq!(f.accept(1, 999), Err(Reject::TooOld));
        // Extremes do not overflow.
        f.accept(1, u64::MAX).unwrap();
        assert_eq!(f.accept(1, u64::MAX), Err(Reject::Replayed));
        assert_eq!(f.accept(1, 0), Err(Reject::TooOld));
    }

    #[test]
    fn smaller_window() {
        let mut f = filter(4, 4);
        f.accept(1, 10).unwrap();
        assert_eq!(f.accept(1, 7), Ok(()));
        assert_eq!(f.accept(1, 6), Err(Reject::TooOld));
    }

    #[test]
    fn rejection_records_nothing() {
        let mut f = filter(64, 2);
        f.accept(1, 5).unwrap();
        f.accept(2, 0).unwrap();
        assert_eq!(f.accept(1, 5), Err(Reject::Replayed));
        // Had the rejections counted as use, session 2 would now be the least
        // recently used. They do not, so session 1 is evicted.
        f.accept(3, 0).unwrap();
        assert_eq!(f.sessions(), 2);
        assert_eq!(f.accept(2, 0), Err(Reject::Replayed));
        assert_eq!(f.accept(1, 5), Ok(())); // forgotten: accepted again (documented)
    }

    #[test]
    fn least_recently_used_session_is_evicted() {
        let mut f = filter(64, 3);
        f.accept(1, 0).unwrap();
        f.accept(2, 0).unwrap();
        f.accept(3, 0).unwrap();
        f.accept(1, 1).unwrap(); // 1 is now the most recent; 2 the least
        f.accept(4, 0).unwrap(); // evicts 2
        assert_eq!(f.sessions(), 3);
        assert_eq!(f.accept(1, 1), Err(Reject::Replayed));
        assert_eq!(f.accept(3, 0), Err(Reject::Replayed));
        assert_eq!(f.accept(4, 0), Err(Reject::Replayed));
        // Session 2 was forgotten, so its old datagram is accepted again (documented);
        // it evicts session 3: rejections do not count as use, so 3 (last accepted
        // before 1's second datagram and 4) is now the least recently used.
        assert_eq!(f.accept(2, 0), Ok(()));
        assert_eq!(f.sessions(), 3);
        assert_eq!(f.accept(1, 1), Err(Reject::Replayed));
        assert_eq!(f.accept(4, 0), Err(Reject::Replayed));
        assert_eq!(f.accept(2, 0), Err(Reject::Replayed));
    }
}
