//! The dissemination queue: which member records still need to be piggybacked, and
//! how often each has been sent.
//!
//! Each queued record is sent at most `λ·⌈log10(N+1)⌉` times (the limit is passed in,
//! so it follows the cluster size). Packets take the least-sent records first, newest
//! first among equals, so fresh news overtakes old news. The queue holds member keys,
//! not records: the current record is read from the table when a packet is built, so
//! a newer version replaces an older one in place and is never sent stale.

use alloc::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy)]
struct Entry {
    sent: u32,
    order: u64,
    accuser: u64,
}

/// Records waiting to be gossiped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Broadcasts {
    entries: BTreeMap<u64, Entry>,
    /// `(sent, newest-first order, key)`.
    queue: BTreeSet<(u32, u64, u64)>,
    counter: u64,
}

impl Broadcasts {
    /// Queues (or re-queues, resetting its count) the record of `key`.
    pub(crate) fn push(&mut self, key: u64, accuser: u64) {
        self.remove(key);
        self.counter += 1;
        let order = u64::MAX - self.counter;
        self.entries.insert(
            key,
            Entry {
                sent: 0,
                order,
                accuser,
            },
        );
        self.queue.insert((0, order, key));
    }

    /// Drops `key` from the queue.
    pub(crate) fn remove(&mut self, key: u64) {
        if let Some(e) = self.entries.remove(&key) {
            self.queue.remove(&(e.sent, e.order, key));
        }
    }

    /// Records waiting.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nothing is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Candidates in send order: `(key, accuser)`. Call [`Broadcasts::sent`] for the
    /// ones actually put into a packet.
    pub(crate) fn candidates(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.queue
            .iter()
            .map(move |&(_, _, key)| (key, self.entries[&key].accuser))
    }

    /// Counts one send of `key`; drops it once it reached `limit` sends.
    pub(crate) fn sent(&mut self, key: u64, limit: u32) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        self.queue.remove(&(e.sent, e.order, key));
        e.sent += 1;
        if e.sent >= limit {
            self.entries.remove(&key);
        } else {
            self.queue.insert((e.sent, e.order, key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn least_sent_then_newest_first_and_limited() {
        let mut b = Broadcasts::default();
        b.push(1, 0);
        b.push(2, 0);
        b.push(3, 9);
        let order: Vec<u64> = b.candidates().map(|c| c.0).collect();
        assert_eq!(order, [3, 2, 1]);
        b.sent(3, 2);
        b.sent(2, 2);
        let order: Vec<(u64, u64)> = b.candidates().collect();
        assert_eq!(order, [(1, 0), (3, 9), (2, 0)]);
        b.sent(3, 2);
        assert!(b.candidates().all(|c| c.0 != 3));
        b.push(2, 0); // re-queued: count reset, newest
        assert_eq!(b.candidates().next(), Some((2, 0)));
        b.remove(1);
        assert_eq!(b.len(), 1);
    }
}
