//! Loom models of the pool's lock-free algorithms (free list, slot refcounts, lanes).
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p shoal-core
//! --no-default-features --lib --release pool::`

extern crate std;

use alloc::vec::Vec;

use loom::sync::atomic::AtomicU32;
use loom::sync::Arc;
use loom::thread;

use super::freelist;
use super::lane::{LaneCells, LaneError};
use super::slot::{self, SlotMeta};
use super::sync::{AtomicU64, Ordering};

/// Explores every interleaving (the models are small enough not to need a preemption
/// bound; `LOOM_MAX_PREEMPTIONS` still applies if set).
fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model(f);
}

/// One class: a free-list head and its slots' metadata, all slots free.
struct Class {
    head: AtomicU64,
    metas: Vec<SlotMeta>,
    /// Test-only: how many threads currently hold each slot (must never exceed 1).
    holders: Vec<AtomicU32>,
}

impl Class {
    fn new(count: usize) -> Class {
        let class = Class {
            head: AtomicU64::new(0),
            metas: (0..count).map(|_| SlotMeta::new()).collect(),
            holders: (0..count).map(|_| AtomicU32::new(0)).collect(),
        };
        freelist::rebuild(&class.head, &class.metas, 0, |_| true);
        class
    }

    fn pop(&self) -> u32 {
        let index = freelist::pop(&self.head, &self.metas)
            .expect("list intact")
            .expect("a slot is free");
        let before = self.holders[index as usize].fetch_add(1, Ordering::Relaxed);
        assert_eq!(before, 0, "slot {index} handed out twice");
        index
    }

    fn push(&self, index: u32) {
        self.holders[index as usize].fetch_sub(1, Ordering::Relaxed);
        freelist::push(&self.head, &self.metas[index as usize], index);
    }

    /// The indices on the list (after every thread has joined), checking each is free.
    fn listed(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut top = freelist::top(self.head.load(Ordering::Acquire));
        while top != 0 {
            assert!(out.len() < self.metas.len(), "free list has a cycle");
            let index = top - 1;
            out.push(index);
            top = self.metas[index as usize].link.load(Ordering::Relaxed);
        }
        out.sort_unstable();
        out
    }
}

#[test]
fn free_list_pop_push_keeps_every_slot_exactly_once() {
    // The ABA scenario: T1 reads head A and its link B; T2 pops A, pops B, pushes A; T1's
    // CAS must then fail (the tag changed) rather than install B, which T2 holds.
    model(|| {
        let class = Arc::new(Class::new(4));
        let t2 = {
            let class = Arc::clone(&class);
            thread::spawn(move || {
                let a = class.pop();
                let b = class.pop();
                class.push(a);
                class.push(b);
            })
        };
        let x = class.pop();
        let y = class.pop();
        class.push(y);
        class.push(x);
        t2.join().unwrap();
        assert_eq!(class.listed(), [0, 1, 2, 3]);
    });
}

#[test]
fn fan_out_release_frees_exactly_once() {
    model(|| {
        let class = Arc::new(Class::new(2));
        let (index, generation) = slot::alloc(&class.head, &class.metas, 10).unwrap().unwrap();
        slot::retain(&class.metas[index as usize].state, generation, 2).unwrap();
        let spawn = || {
            let class = Arc::clone(&class);
            thread::spawn(move || {
                slot::release(&class.head, &class.metas, index, generation).unwrap()
            })
        };
        let (t1, t2) = (spawn(), spawn());
        let mine = slot::release(&class.head, &class.metas, index, generation).unwrap();
        let freed = [mine, t1.join().unwrap(), t2.join().unwrap()];
        assert_eq!(freed.iter().filter(|&&f| f).count(), 1, "{freed:?}");
        let state = class.metas[index as usize].state.load(Ordering::Relaxed);
        assert_eq!(state, slot::state(generation + 1, 0));
        assert!(slot::release(&class.head, &class.metas, index, generation).is_err());
        assert_eq!(class.listed(), [0, 1]);
    });
}

#[test]
fn release_racing_alloc_and_stale_retain() {
    model(|| {
        let class = Arc::new(Class::new(2));
        let (a, generation) = slot::alloc(&class.head, &class.metas, 1).unwrap().unwrap();
        let t1 = {
            let class = Arc::clone(&class);
            thread::spawn(move || slot::release(&class.head, &class.metas, a, generation).unwrap())
        };
        let t2 = {
            let class = Arc::clone(&class);
            thread::spawn(move || {
                // A stale retain may only succeed while `a` is still at `generation`; if it
                // does, it owns a reference it must drop.
                slot::retain(&class.metas[a as usize].state, generation, 1).is_ok()
                    && slot::release(&class.head, &class.metas, a, generation).unwrap()
            })
        };
        let (x, gx) = slot::alloc(&class.head, &class.metas, 2).unwrap().unwrap();
        assert!(
            x != a || gx == generation + 1,
            "a reused slot has a new generation"
        );
        assert_eq!(slot::release(&class.head, &class.metas, x, gx), Ok(true));
        let freed = [t1.join().unwrap(), t2.join().unwrap()];
        assert_eq!(freed.iter().filter(|&&f| f).count(), 1, "{freed:?}");
        assert_eq!(class.listed(), [0, 1]);
        for meta in &class.metas {
            assert_eq!(slot::refcount(meta.state.load(Ordering::Relaxed)), 0);
        }
    });
}

/// A lane's cells on the heap.
struct LaneBox {
    head: AtomicU64,
    tail: AtomicU64,
    entries: Vec<AtomicU64>,
}

impl LaneBox {
    fn new(capacity: usize) -> LaneBox {
        LaneBox {
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            entries: (0..2 * capacity).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn cells(&self) -> LaneCells<'_> {
        LaneCells {
            head: &self.head,
            tail: &self.tail,
            entries: &self.entries,
        }
    }
}

fn entry(n: u64) -> [u64; 2] {
    [n, !n]
}

#[test]
fn lane_producer_consumer_keeps_order() {
    model(|| {
        let lane = Arc::new(LaneBox::new(2));
        let producer = {
            let lane = Arc::clone(&lane);
            thread::spawn(move || {
                for n in 0..3 {
                    loop {
                        match lane.cells().push(entry(n)) {
                            Ok(()) => break,
                            Err(LaneError::Full) => thread::yield_now(),
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        };
        let mut next = 0;
        while next < 3 {
            match lane.cells().pop().unwrap() {
                Some(e) => {
                    assert_eq!(e, entry(next));
                    next += 1;
                }
                None => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(lane.cells().pop(), Ok(None));
    });
}

#[test]
fn lane_drop_oldest_racing_pop_takes_each_entry_once() {
    model(|| {
        let lane = Arc::new(LaneBox::new(2));
        lane.cells().push(entry(1)).unwrap();
        lane.cells().push(entry(2)).unwrap();
        let producer = {
            let lane = Arc::clone(&lane);
            thread::spawn(move || {
                let dropped = lane.cells().drop_oldest().unwrap();
                // Room for one more whether we dropped an entry or the consumer took both.
                // (If the consumer took none yet, our drop made the room.)
                lane.cells().push(entry(3)).unwrap();
                dropped
            })
        };
        let mut taken = Vec::new();
        for _ in 0..2 {
            if let Some(e) = lane.cells().pop().unwrap() {
                assert_eq!(e[1], !e[0], "torn entry");
                taken.push(e[0]);
            }
        }
        let dropped = producer.join().unwrap();
        assert!(taken.windows(2).all(|w| w[0] < w[1]), "{taken:?}");
        let mut all = taken.clone();
        if let Some(e) = dropped {
            assert_eq!(e[1], !e[0], "torn entry");
            all.push(e[0]);
        }
        while let Some(e) = lane.cells().pop().unwrap() {
            all.push(e[0]);
        }
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3], "taken {taken:?}, dropped {dropped:?}");
    });
}
