//! The dissemination queue: which member records still need to be piggybacked, and
//! how often each has been sent.
//!
//! Each queued record is sent at most `λ·⌈log10(N+1)⌉` times (the limit is passed in,
//! so it follows the cluster size). Packets take the least-sent records first, newest
//! first among equals, so fresh news overtakes old news. Queueing a newer record of a
//! member replaces the older one in place (and resets its count).

use alloc::collections::{BTreeMap, BTreeSet};

use super::member::Member;

#[derive(Debug, Clone)]
struct Entry {
    member: Member,
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
    /// Queues (or re-queues, resetting its count) `member`'s record.
    pub(crate) fn push(&mut self, member: Member, accuser: u64) {
        let key = member.key();
        self.remove(key);
        self.counter += 1;
        let order = u64::MAX - self.counter;
        self.entries.insert(
            key,
            Entry {
                member,
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

    /// Candidates in send order: `(record, accuser)`. Call [`Broadcasts::sent`] for
    /// the ones actually put into a packet.
    pub(crate) fn candidates(&self) -> impl Iterator<Item = (&Member, u64)> + '_ {
        self.queue.iter().map(move |(_, _, key)| {
            let e = &self.entries[key];
            (&e.member, e.accuser)
        })
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
    use crate::membership::member::Meta;
    use alloc::vec::Vec;

    #[test]
    fn least_sent_then_newest_first_and_limited() {
        let m: Vec<Member> = ["a", "b", "c"]
            .iter()
            .map(|id| Member::new(id, "10.0.0.1:1".parse().unwrap(), Meta::default()))
            .collect();
        let k = |i: usize| m[i].key();
        let mut b = Broadcasts::default();
        b.push(m[0].clone(), 0);
        b.push(m[1].clone(), 0);
        b.push(m[2].clone(), 9);
        let order: Vec<u64> = b.candidates().map(|c| c.0.key()).collect();
        assert_eq!(order, [k(2), k(1), k(0)]);
        b.sent(k(2), 2);
        b.sent(k(1), 2);
        let order: Vec<(u64, u64)> = b.candidates().map(|c| (c.0.key(), c.1)).collect();
        assert_eq!(order, [(k(0), 0), (k(2), 9), (k(1), 0)]);
        b.sent(k(2), 2);
        assert!(b.candidates().all(|c| c.0.key() != k(2)));
        b.push(m[1].clone(), 0); // re-queued: count reset, newest
        assert_eq!(b.candidates().next().map(|c| c.0.key()), Some(k(1)));
        b.remove(k(0));
        assert_eq!(b.len(), 1);
    }
}
