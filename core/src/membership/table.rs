//! The member table: a persistent 64-ary trie keyed by `XXH3-64(id)`, with counts and
//! XOR hashes at every level.
//!
//! Three things make it the right shape for gossip:
//!
//! * **Summaries for anti-entropy.** Every subtree knows how many records it holds
//!   and the XOR of their hashes, so the 64 child summaries of any prefix are read in
//!   O(1). Two members compare tables top-down and exchange only the subtrees that
//!   differ (see `sync.rs`).
//! * **Uniform random choice.** Live counts per subtree give the k-th live member in
//!   O(depth), so gossip targets are drawn uniformly without a side array.
//! * **Sharing.** Nodes are reference counted and updated by path copying
//!   (`Arc::make_mut`), so cloning a table is O(1) and an update copies only the
//!   nodes on one root-to-leaf path — and nothing at all when the table is not shared.
//!   The simulator starts 100 000 members from one shared converged table this way.
//!
//! The table stores records; it does not decide which record wins (that is
//! [`Member::precedence`], applied by the caller).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::member::Member;

/// Bits of the key consumed per level (64 children per node).
const BITS: u32 = 6;
/// Deepest level: levels 0..=9 use 6 bits each, level 10 the last 4.
pub(crate) const MAX_DEPTH: u8 = 10;

/// Count, live count and XOR of record hashes of a set of records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agg {
    /// Records (any status).
    pub count: u32,
    /// Records that are alive or suspect.
    pub live: u32,
    /// XOR of [`Member::record_hash`] over the records.
    pub hash: u64,
}

impl Agg {
    fn of(m: &Member) -> Agg {
        Agg {
            count: 1,
            live: u32::from(m.status().is_live()),
            hash: m.record_hash(),
        }
    }

    fn add(&mut self, o: Agg) {
        self.count = self.count.wrapping_add(o.count);
        self.live = self.live.wrapping_add(o.live);
        self.hash ^= o.hash;
    }

    fn sub(&mut self, o: Agg) {
        self.count = self.count.wrapping_sub(o.count);
        self.live = self.live.wrapping_sub(o.live);
        self.hash ^= o.hash;
    }
}

/// The slot of `key` among the 64 children of a level-`depth` node.
#[inline]
pub(crate) fn slot_of(key: u64, depth: u8) -> usize {
    if depth < MAX_DEPTH {
        ((key >> (58 - BITS * u32::from(depth))) & 63) as usize
    } else {
        (key & 15) as usize
    }
}

/// The key bits fixed by a path of `depth` levels (all ones for depth > MAX_DEPTH).
#[inline]
pub(crate) fn prefix_mask(depth: u8) -> u64 {
    match depth {
        0 => 0,
        d if d <= MAX_DEPTH => !0u64 << (64 - BITS * u32::from(d)),
        _ => !0,
    }
}

/// The prefix of child `slot` under `prefix` at `depth`.
#[inline]
pub(crate) fn child_prefix(prefix: u64, depth: u8, slot: usize) -> u64 {
    if depth < MAX_DEPTH {
        prefix | ((slot as u64 & 63) << (58 - BITS * u32::from(depth)))
    } else {
        prefix | (slot as u64 & 15)
    }
}

#[derive(Clone)]
struct Leaf {
    member: Member,
    agg: Agg,
}

#[derive(Clone)]
enum Slot {
    Leaf(Arc<Leaf>),
    Node(Arc<Inner>),
}

impl Slot {
    fn agg(&self) -> Agg {
        match self {
            Slot::Leaf(l) => l.agg,
            Slot::Node(n) => n.agg,
        }
    }
}

#[derive(Clone, Default)]
struct Inner {
    bitmap: u64,
    slots: Vec<Slot>,
    agg: Agg,
}

impl Inner {
    fn pos(&self, slot: usize) -> (bool, usize) {
        let bit = 1u64 << slot;
        (
            self.bitmap & bit != 0,
            (self.bitmap & (bit - 1)).count_ones() as usize,
        )
    }

    fn slot(&self, slot: usize) -> Option<&Slot> {
        let (present, pos) = self.pos(slot);
        present.then(|| &self.slots[pos])
    }

    /// Inserts or replaces; returns the aggregate change.
    fn upsert(&mut self, depth: u8, leaf: Arc<Leaf>) -> (Agg, Agg) {
        let key = leaf.member.key();
        let (present, pos) = self.pos(slot_of(key, depth));
        let new = leaf.agg;
        let old = if !present {
            self.bitmap |= 1 << slot_of(key, depth);
            self.slots.insert(pos, Slot::Leaf(leaf));
            Agg::default()
        } else {
            match &mut self.slots[pos] {
                Slot::Leaf(existing) if existing.member.key() == key => {
                    let old = existing.agg;
                    *existing = leaf;
                    old
                }
                Slot::Leaf(existing) => {
                    // Two keys share this slot: push the existing leaf one level down.
                    let mut child = Inner::default();
                    child.upsert(depth + 1, existing.clone());
                    let (o, _) = child.upsert(depth + 1, leaf);
                    self.slots[pos] = Slot::Node(Arc::new(child));
                    o
                }
                Slot::Node(child) => Arc::make_mut(child).upsert(depth + 1, leaf).0,
            }
        };
        self.agg.sub(old);
        self.agg.add(new);
        (old, new)
    }

    /// Removes `key`; returns the removed leaf's aggregate.
    fn remove(&mut self, depth: u8, key: u64) -> Option<Agg> {
        let (present, pos) = self.pos(slot_of(key, depth));
        if !present {
            return None;
        }
        let removed = match &mut self.slots[pos] {
            Slot::Leaf(l) if l.member.key() == key => {
                let a = l.agg;
                self.slots.remove(pos);
                self.bitmap &= !(1 << slot_of(key, depth));
                a
            }
            Slot::Leaf(_) => return None,
            Slot::Node(child) => {
                let a = Arc::make_mut(child).remove(depth + 1, key)?;
                if child.agg.count == 0 {
                    self.slots.remove(pos);
                    self.bitmap &= !(1 << slot_of(key, depth));
                }
                a
            }
        };
        self.agg.sub(removed);
        Some(removed)
    }
}

/// The member table (see the module docs). `Clone` is O(1): clones share nodes until
/// one of them changes.
#[derive(Clone, Default)]
pub struct MemberTable {
    root: Arc<Inner>,
}

impl MemberTable {
    /// An empty table.
    pub fn new() -> MemberTable {
        MemberTable::default()
    }

    /// Number of records (any status).
    pub fn len(&self) -> usize {
        self.root.agg.count as usize
    }

    /// True if there are no records.
    pub fn is_empty(&self) -> bool {
        self.root.agg.count == 0
    }

    /// Number of alive or suspect records.
    pub fn live(&self) -> usize {
        self.root.agg.live as usize
    }

    /// XOR of every record hash: equal tables have equal digests.
    pub fn digest(&self) -> u64 {
        self.root.agg.hash
    }

    /// The record under `key` (`XXH3-64(id)`).
    pub fn get(&self, key: u64) -> Option<&Member> {
        let mut node: &Inner = &self.root;
        let mut depth = 0;
        loop {
            match node.slot(slot_of(key, depth))? {
                Slot::Leaf(l) => return (l.member.key() == key).then_some(&l.member),
                Slot::Node(n) => {
                    node = n;
                    depth += 1;
                }
            }
        }
    }

    /// Inserts `member` or replaces the record with the same key (unconditionally: the
    /// caller decides precedence).
    pub fn insert(&mut self, member: Member) {
        let agg = Agg::of(&member);
        Arc::make_mut(&mut self.root).upsert(0, Arc::new(Leaf { member, agg }));
    }

    /// Removes the record under `key`, returning whether there was one.
    pub fn remove(&mut self, key: u64) -> bool {
        if self.get(key).is_none() {
            return false;
        }
        Arc::make_mut(&mut self.root).remove(0, key).is_some()
    }

    /// The `rank`-th live record in key order (`rank < self.live()`).
    pub fn nth_live(&self, mut rank: usize) -> Option<&Member> {
        let mut node: &Inner = &self.root;
        'descend: loop {
            for s in &node.slots {
                let live = s.agg().live as usize;
                if rank < live {
                    match s {
                        Slot::Leaf(l) => return Some(&l.member),
                        Slot::Node(n) => {
                            node = n;
                            continue 'descend;
                        }
                    }
                }
                rank -= live;
            }
            return None;
        }
    }

    /// Calls `f` on every record, in key order.
    pub fn for_each(&self, mut f: impl FnMut(&Member)) {
        walk(&self.root, &mut f);
    }

    /// All records, in key order.
    pub fn members(&self) -> Vec<Member> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|m| v.push(m.clone()));
        v
    }

    /// The 64 child aggregates of the subtree at `prefix` (`depth` levels fixed).
    /// Children with no records are zero.
    pub(crate) fn summary(&self, depth: u8, prefix: u64) -> [Agg; 64] {
        let mut out = [Agg::default(); 64];
        match self.locate(depth, prefix) {
            Located::Node(n) => {
                let mut i = 0;
                let mut bits = n.bitmap;
                while bits != 0 {
                    let slot = bits.trailing_zeros() as usize;
                    out[slot] = n.slots[i].agg();
                    bits &= bits - 1;
                    i += 1;
                }
            }
            Located::Leaf(l) => out[slot_of(l.member.key(), depth)] = l.agg,
            Located::Empty => {}
        }
        out
    }

    /// Calls `f` on every record whose key starts with `prefix` (`depth` levels fixed)
    /// and then sits in child `slot`.
    pub(crate) fn for_each_in(
        &self,
        depth: u8,
        prefix: u64,
        slot: usize,
        mut f: impl FnMut(&Member),
    ) {
        match self.locate(depth, prefix) {
            Located::Node(n) => match n.slot(slot) {
                Some(Slot::Leaf(l)) => f(&l.member),
                Some(Slot::Node(c)) => walk(c, &mut f),
                None => {}
            },
            Located::Leaf(l) => {
                if slot_of(l.member.key(), depth) == slot {
                    f(&l.member)
                }
            }
            Located::Empty => {}
        }
    }

    fn locate(&self, depth: u8, prefix: u64) -> Located<'_> {
        let mut node: &Inner = &self.root;
        for d in 0..depth.min(MAX_DEPTH + 1) {
            match node.slot(slot_of(prefix, d)) {
                None => return Located::Empty,
                Some(Slot::Node(n)) => node = n,
                Some(Slot::Leaf(l)) => {
                    let mask = prefix_mask(depth);
                    return if l.member.key() & mask == prefix & mask {
                        Located::Leaf(l)
                    } else {
                        Located::Empty
                    };
                }
            }
        }
        Located::Node(node)
    }
}

enum Located<'a> {
    Node(&'a Inner),
    Leaf(&'a Leaf),
    Empty,
}

fn walk(node: &Inner, f: &mut impl FnMut(&Member)) {
    for s in &node.slots {
        match s {
            Slot::Leaf(l) => f(&l.member),
            Slot::Node(n) => walk(n, f),
        }
    }
}

impl core::fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut list = f.debug_list();
        self.for_each(|m| {
            list.entry(m);
        });
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::member::{Meta, Status};
    use alloc::format;
    use alloc::vec;

    fn member(i: u32) -> Member {
        Member::new(
            &format!("m{i}"),
            "10.0.0.1:7000".parse().unwrap(),
            Meta::default(),
        )
    }

    fn check(t: &MemberTable, model: &[Member]) {
        let mut sorted: Vec<Member> = model.to_vec();
        sorted.sort_by_key(|m| m.key());
        assert_eq!(t.members(), sorted);
        assert_eq!(t.len(), sorted.len());
        let live: Vec<&Member> = sorted.iter().filter(|m| m.status().is_live()).collect();
        assert_eq!(t.live(), live.len());
        for (r, m) in live.iter().enumerate() {
            assert_eq!(t.nth_live(r), Some(*m));
        }
        assert_eq!(t.nth_live(live.len()), None);
        let xor = sorted.iter().fold(0, |h, m| h ^ m.record_hash());
        assert_eq!(t.digest(), xor);
        for m in &sorted {
            assert_eq!(t.get(m.key()), Some(m));
        }
        // Summaries partition the records at every depth along each key's path.
        for m in sorted.iter().take(20) {
            for depth in 0..4u8 {
                let prefix = m.key() & prefix_mask(depth);
                let s = t.summary(depth, prefix);
                let slot = slot_of(m.key(), depth);
                let mut n = 0;
                t.for_each_in(depth, prefix, slot, |x| {
                    assert_eq!(
                        x.key() & prefix_mask(depth + 1),
                        child_prefix(prefix, depth, slot)
                    );
                    n += 1;
                });
                assert_eq!(s[slot].count, n);
                let total: u32 = s.iter().map(|a| a.count).sum();
                let expect = sorted
                    .iter()
                    .filter(|x| x.key() & prefix_mask(depth) == prefix)
                    .count();
                assert_eq!(total as usize, expect);
            }
        }
    }

    #[test]
    fn insert_replace_remove_match_a_model() {
        let mut t = MemberTable::new();
        let mut model = vec![];
        for i in 0..3000 {
            let m = member(i);
            t.insert(m.clone());
            model.push(m);
        }
        check(&t, &model);
        let shared = t.clone();
        for i in (0..3000).step_by(3) {
            let m = model[i].with_status(Status::Dead);
            t.insert(m.clone());
            model[i] = m;
        }
        check(&t, &model);
        for i in (0..3000).step_by(7) {
            assert!(t.remove(model[i].key()));
            assert!(!t.remove(model[i].key()));
        }
        let kept: Vec<Member> = model
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 7 != 0)
            .map(|(_, m)| m.clone())
            .collect();
        check(&t, &kept);
        // The clone taken before the changes still holds the old records.
        assert_eq!(shared.len(), 3000);
        assert_eq!(shared.live(), 3000);
        while let Some(m) = t.nth_live(0).cloned() {
            t.remove(m.key());
        }
        for m in t.members() {
            t.remove(m.key());
        }
        assert!(t.is_empty());
        assert_eq!(t.digest(), 0);
    }

    #[test]
    fn keys_sharing_long_prefixes() {
        // Forge records whose keys agree on many leading bits by searching ids.
        let mut t = MemberTable::new();
        let mut model = vec![];
        let target = member(0).key() & prefix_mask(3);
        let mut i = 0;
        while model.len() < 6 {
            let m = member(i);
            if m.key() & prefix_mask(3) == target {
                t.insert(m.clone());
                model.push(m);
            }
            i += 1;
        }
        check(&t, &model);
        let s = t.summary(3, target);
        assert_eq!(s.iter().map(|a| a.count).sum::<u32>(), 6);
        assert_eq!(t.summary(2, target)[slot_of(target, 2)].count, 6);
    }

    #[test]
    fn slots_cover_all_64_bits() {
        let k = 0x0123_4567_89ab_cdefu64;
        let mut p = 0;
        for d in 0..=MAX_DEPTH {
            p = child_prefix(p, d, slot_of(k, d));
        }
        assert_eq!(p, k);
        assert_eq!(prefix_mask(MAX_DEPTH + 1), !0);
    }
}
