//! Unit tests of the pool and lanes over heap-backed regions.

extern crate std;

use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use std::sync::Arc;
use std::thread;

use proptest::prelude::*;

use super::layout::{field, HEADER_SIZE};
use super::sync::Ordering;
use super::*;
use super::{freelist, layout, slot};

/// A zeroed, 64-aligned heap buffer standing in for a shared-memory segment.
struct Region {
    ptr: NonNull<u8>,
    layout: std::alloc::Layout,
}

impl Region {
    fn new(len: usize) -> Region {
        let layout = std::alloc::Layout::from_size_align(len.max(1), ALIGN).unwrap();
        // SAFETY: the layout has a nonzero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        Region {
            ptr: NonNull::new(ptr).expect("allocation failed"),
            layout,
        }
    }

    fn len(&self) -> usize {
        self.layout.size()
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: we own `len` initialized (zeroed) bytes; no `Pool` is used while the
        // returned borrow lives (tests only touch bytes between pool calls).
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len()) }
    }

    fn write_u32(&mut self, offset: usize, value: u32) {
        self.bytes()[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn write_u64(&mut self, offset: usize, value: u64) {
        self.bytes()[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

// SAFETY: the buffer is plain heap memory; the tests share it between threads only
// through `Pool`/`Lane`, which use atomics.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

fn config(classes: &[(u32, u32)]) -> PoolConfig {
    PoolConfig {
        classes: classes
            .iter()
            .map(|&(slot_size, count)| ClassConfig { slot_size, count })
            .collect(),
    }
}

/// A region formatted for `cfg` and a pool on it (the region must outlive the pool).
fn pool_with(cfg: &PoolConfig) -> (Region, Pool) {
    let len = Pool::required_size(cfg).unwrap();
    let region = Region::new(len);
    // SAFETY: the region is ours, aligned, `len` bytes, and outlives the pool (callers
    // keep it alive alongside).
    let pool = unsafe { Pool::init(region.ptr, len, cfg) }.unwrap();
    (region, pool)
}

fn attach(region: &Region) -> Result<Pool, PoolError> {
    // SAFETY: the region is alive for the duration of each test that uses the pool.
    unsafe { Pool::attach(region.ptr, region.len()) }
}

fn free_slots(pool: &Pool) -> u64 {
    let stats = pool.stats();
    stats.total_slots - stats.allocated_slots
}

/// Allocates every slot of every class (largest first so each class is drained by its
/// own requests), checks they are distinct, and releases them.
fn assert_full_capacity(pool: &Pool) {
    let mut held = Vec::new();
    for class in (0..pool.class_count() as u8).rev() {
        let size = pool.slot_size(class).unwrap() as usize;
        loop {
            match pool.alloc(size) {
                Ok(slot) if slot.class == class => held.push(slot),
                Ok(slot) => {
                    pool.release(&slot.descriptor(0, 0)).unwrap();
                    break;
                }
                Err(PoolError::Exhausted { .. }) => break,
                Err(e) => panic!("unexpected {e}"),
            }
        }
    }
    let stats = pool.stats();
    assert_eq!(held.len() as u64, stats.total_slots, "every slot allocable");
    assert_eq!(stats.allocated_slots, stats.total_slots);
    let mut offsets: Vec<u64> = held.iter().map(|s| s.offset).collect();
    offsets.sort_unstable();
    offsets.dedup();
    assert_eq!(offsets.len(), held.len(), "no slot handed out twice");
    for slot in &held {
        assert!(pool.release(&slot.descriptor(0, 0)).unwrap());
    }
    assert_eq!(pool.stats().allocated_slots, 0);
}

// ---- config ----------------------------------------------------------------------

#[test]
fn config_rules() {
    assert!(PoolConfig::standard().validate().is_ok());
    assert!(PoolConfig::small().validate().is_ok());
    assert_eq!(PoolConfig::default(), PoolConfig::standard());
    assert_eq!(PoolConfig::standard().classes.len(), 15);
    assert_eq!(PoolConfig::standard().classes[14].slot_size, 1 << 20);
    let bad = [
        config(&[]),
        config(&[(64, 1); 17]),
        config(&[(96, 1)]),
        config(&[(32, 1)]),
        config(&[(128, 1), (64, 1)]),
        config(&[(64, 1), (64, 1)]),
        config(&[(64, 0)]),
        config(&[(64, 1 << 31)]),
    ];
    for cfg in &bad {
        assert!(
            matches!(cfg.validate(), Err(PoolError::InvalidConfig { .. })),
            "{cfg:?}"
        );
        assert!(Pool::required_size(cfg).is_err());
    }
}

#[test]
fn standard_region_size_is_documented() {
    let size = Pool::required_size(&PoolConfig::standard()).unwrap();
    assert_eq!(size, 66_782_848);
    assert_eq!(size % ALIGN, 0);
    let stats_slots: u64 = PoolConfig::standard()
        .classes
        .iter()
        .map(|c| u64::from(c.count))
        .sum();
    assert_eq!(stats_slots, 45_087);
    let slot_bytes: u64 = PoolConfig::standard()
        .classes
        .iter()
        .map(|c| u64::from(c.count) * u64::from(c.slot_size))
        .sum();
    assert_eq!(slot_bytes, 63 << 20);
}

// ---- alloc -------------------------------------------------------------------------

#[test]
fn alloc_picks_smallest_fitting_class() {
    let (_region, pool) = pool_with(&PoolConfig::small());
    for (len, class) in [
        (0, 0),
        (1, 0),
        (64, 0),
        (65, 1),
        (1024, 4),
        (1025, 5),
        (65536, 10),
        (65537, 11),
        (1 << 20, 14),
    ] {
        let slot = pool.alloc(len).unwrap();
        assert_eq!(slot.class, class, "len {len}");
        assert_eq!(slot.capacity, 64 << class);
        assert_eq!(slot.generation, 0);
        assert_eq!(pool.slot_size(class), Some(slot.capacity));
        assert_eq!(pool.validate(&slot.descriptor(len as u32, 0)), Ok(slot));
    }
    assert_eq!(pool.slot_size(15), None);
}

#[test]
fn alloc_falls_through_to_larger_classes() {
    let (_region, pool) = pool_with(&config(&[(64, 2), (128, 1), (256, 1)]));
    assert_eq!(pool.alloc(10).unwrap().class, 0);
    assert_eq!(pool.alloc(10).unwrap().class, 0);
    assert_eq!(pool.alloc(10).unwrap().class, 1);
    assert_eq!(pool.alloc(10).unwrap().class, 2);
    assert_eq!(pool.alloc(10), Err(PoolError::Exhausted { len: 10 }));
}

#[test]
fn exhausted_when_all_full_and_too_large() {
    let (_region, pool) = pool_with(&config(&[(64, 1), (128, 1)]));
    assert_eq!(
        pool.alloc(129),
        Err(PoolError::TooLarge { len: 129, max: 128 })
    );
    let a = pool.alloc(100).unwrap();
    assert_eq!(pool.alloc(100), Err(PoolError::Exhausted { len: 100 }));
    // The small class is still free for small requests.
    let b = pool.alloc(1).unwrap();
    assert_eq!(b.class, 0);
    assert_eq!(pool.alloc(1), Err(PoolError::Exhausted { len: 1 }));
    pool.release(&a.descriptor(0, 0)).unwrap();
    assert_eq!(pool.alloc(1).unwrap().class, 1);
    let text = std::format!("{}", PoolError::Exhausted { len: 1 });
    assert!(text.contains("exhausted"), "{text}");
}

#[test]
fn slots_are_aligned_distinct_and_hold_data() {
    let (region, pool) = pool_with(&PoolConfig::small());
    let mut slots = Vec::new();
    for len in [0usize, 100, 5000, 70_000, 1 << 20] {
        let slot = pool.alloc(len).unwrap();
        let ptr = pool.slot_ptr(&slot);
        assert_eq!(ptr.as_ptr() as usize % ALIGN, 0);
        assert_eq!(
            ptr.as_ptr() as usize - region.ptr.as_ptr() as usize,
            slot.offset as usize
        );
        assert!(slot.offset as usize + slot.capacity as usize <= pool.len());
        // SAFETY: the slot is ours (refcount 1) and `capacity` bytes long.
        unsafe { core::ptr::write_bytes(ptr.as_ptr(), slot.class + 1, slot.capacity as usize) };
        slots.push(slot);
    }
    for slot in &slots {
        // SAFETY: as above; nobody else writes these slots.
        let bytes = unsafe {
            core::slice::from_raw_parts(pool.slot_ptr(slot).as_ptr(), slot.capacity as usize)
        };
        assert!(bytes.iter().all(|&b| b == slot.class + 1));
    }
    // A forged slot still yields a pointer inside the slot data.
    let start = pool.slot_ptr(&slots[0]).as_ptr() as usize - slots[0].offset as usize;
    for forged in [
        Slot {
            class: 200,
            ..slots[0]
        },
        Slot {
            index: u32::MAX,
            ..slots[1]
        },
    ] {
        let p = pool.slot_ptr(&forged).as_ptr() as usize;
        assert!(p >= start + HEADER_SIZE && p < start + pool.len());
    }
}

// ---- release, retain, validate ---------------------------------------------------------

#[test]
fn release_frees_and_bumps_generation() {
    let (_region, pool) = pool_with(&config(&[(64, 1)]));
    let slot = pool.alloc(10).unwrap();
    let d = slot.descriptor(10, 7);
    assert_eq!(pool.release(&d), Ok(true));
    assert_eq!(
        pool.validate(&d),
        Err(PoolError::StaleGeneration {
            offset: d.offset,
            generation: 0,
            current: 1
        })
    );
    // Double release: an error, and nothing changes.
    assert!(matches!(
        pool.release(&d),
        Err(PoolError::StaleGeneration { .. })
    ));
    let again = pool.alloc(10).unwrap();
    assert_eq!(again.offset, slot.offset);
    assert_eq!(again.generation, 1);
    assert!(matches!(
        pool.release(&d),
        Err(PoolError::StaleGeneration { .. })
    ));
    assert!(pool.retain(&d, 1).is_err());
    assert_eq!(pool.stats().allocated_slots, 1);
    assert_eq!(pool.release(&again.descriptor(0, 0)), Ok(true));
    assert_eq!(free_slots(&pool), 1);
}

#[test]
fn fan_out_frees_exactly_once() {
    let (_region, pool) = pool_with(&config(&[(64, 2)]));
    let slot = pool.alloc(64).unwrap();
    let d = slot.descriptor(64, 0);
    pool.retain(&d, 3).unwrap();
    pool.retain(&d, 0).unwrap();
    let freed: Vec<bool> = (0..4).map(|_| pool.release(&d).unwrap()).collect();
    assert_eq!(freed, [false, false, false, true]);
    assert!(pool.release(&d).is_err());
    assert_eq!(free_slots(&pool), 2);
}

#[test]
fn retain_refuses_overflow_and_free_slots() {
    let (_region, pool) = pool_with(&config(&[(64, 2)]));
    let slot = pool.alloc(1).unwrap();
    let d = slot.descriptor(1, 0);
    assert_eq!(
        pool.retain(&d, u32::MAX),
        Err(PoolError::RefcountOverflow {
            offset: d.offset,
            refcount: 1,
            add: u32::MAX
        })
    );
    pool.retain(&d, u32::MAX - 1).unwrap();
    assert!(matches!(
        pool.retain(&d, 1),
        Err(PoolError::RefcountOverflow { .. })
    ));
    // The other slot is free at generation 0: a descriptor for it is NotAllocated.
    let other = Descriptor {
        offset: d.offset + 64,
        ..d
    };
    assert_eq!(
        pool.retain(&other, 1),
        Err(PoolError::NotAllocated {
            offset: other.offset
        })
    );
}

#[test]
fn validate_rejects_each_kind_of_bad_descriptor() {
    let (_region, pool) = pool_with(&config(&[(64, 4), (256, 2)]));
    let slot = pool.alloc(200).unwrap();
    assert_eq!(slot.class, 1);
    let good = slot.descriptor(200, 0);
    assert_eq!(pool.validate(&good), Ok(slot));

    let past_end = Descriptor {
        offset: pool.len() as u64 + 64,
        ..good
    };
    assert_eq!(
        pool.validate(&past_end),
        Err(PoolError::OutOfBounds {
            offset: past_end.offset
        })
    );
    for offset in [0, 8, field::CLASSES as u64, HEADER_SIZE as u64, 300] {
        let inside_metadata = Descriptor { offset, ..good };
        assert_eq!(
            pool.validate(&inside_metadata),
            Err(PoolError::OutOfBounds { offset })
        );
    }
    let misaligned = Descriptor {
        offset: good.offset + 64,
        ..good
    };
    assert_eq!(
        pool.validate(&misaligned),
        Err(PoolError::Misaligned {
            offset: misaligned.offset,
            slot_size: 256
        })
    );
    let text = std::format!("{}", pool.validate(&misaligned).unwrap_err());
    assert!(text.contains("not aligned to a 256-byte slot"), "{text}");
    let too_long = Descriptor { len: 257, ..good };
    assert_eq!(
        pool.validate(&too_long),
        Err(PoolError::TooLong {
            len: 257,
            capacity: 256
        })
    );
    let stale = Descriptor {
        generation: 5,
        ..good
    };
    assert_eq!(
        pool.validate(&stale),
        Err(PoolError::StaleGeneration {
            offset: good.offset,
            generation: 5,
            current: 0
        })
    );
    let free = Descriptor {
        offset: good.offset + 256,
        ..good
    };
    assert_eq!(
        pool.validate(&free),
        Err(PoolError::NotAllocated {
            offset: free.offset
        })
    );
    // None of the failures changed anything.
    for d in [past_end, misaligned, too_long, stale, free] {
        assert!(pool.release(&d).is_err());
        assert!(pool.retain(&d, 1).is_err());
    }
    assert_eq!(pool.validate(&good), Ok(slot));
    assert_eq!(pool.stats().allocated_slots, 1);
}

#[test]
fn descriptor_round_trips() {
    let d = Descriptor {
        offset: (1 << 56) - 64,
        len: u32::MAX,
        generation: 0xdead_beef,
        flags: 0xa5,
    };
    assert_eq!(Descriptor::decode(d.encode()), d);
    let words = d.encode();
    assert_eq!(words[0] >> 56, 0xa5);
    assert_eq!(words[1], 0xdead_beef_ffff_ffff);
    assert_eq!(Descriptor::decode([u64::MAX, u64::MAX]).flags, 0xff);
}

// ---- attach ------------------------------------------------------------------------

#[test]
fn attach_at_another_address_sees_the_same_allocations() {
    let cfg = PoolConfig::small();
    let (mut region, pool) = pool_with(&cfg);
    let held: Vec<Slot> = [10usize, 3000, 100_000]
        .iter()
        .map(|&len| pool.alloc(len).unwrap())
        .collect();
    let freed = pool.alloc(10).unwrap();
    pool.release(&freed.descriptor(0, 0)).unwrap();
    // SAFETY: the first slot is held by us.
    unsafe { pool.slot_ptr(&held[0]).as_ptr().write(42) };

    let mut copy = Region::new(region.len());
    copy.bytes().copy_from_slice(region.bytes());
    assert_ne!(copy.ptr, region.ptr);
    let other = attach(&copy).unwrap();
    assert_eq!(other.class_count(), pool.class_count());
    assert_eq!(other.len(), pool.len());
    assert_eq!(other.base(), copy.ptr);
    for slot in &held {
        assert_eq!(other.validate(&slot.descriptor(10, 0)), Ok(*slot));
    }
    assert!(matches!(
        other.validate(&freed.descriptor(0, 0)),
        Err(PoolError::StaleGeneration { .. })
    ));
    // SAFETY: as above, in the copy.
    assert_eq!(unsafe { other.slot_ptr(&held[0]).as_ptr().read() }, 42);
    assert_eq!(other.stats(), pool.stats());
    // The copy allocates on from the same free lists.
    let next_here = pool.alloc(10).unwrap();
    let next_there = other.alloc(10).unwrap();
    assert_eq!(next_here, next_there);
    // And a second handle on the same memory shares everything.
    let same = attach(&region).unwrap();
    assert_eq!(same.release(&next_here.descriptor(0, 0)), Ok(true));
    assert!(pool.validate(&next_here.descriptor(0, 0)).is_err());
}

#[test]
fn attach_rejects_corrupt_headers() {
    let cfg = config(&[(64, 4), (128, 4)]);
    let (mut region, _pool) = pool_with(&cfg);
    let clean: Vec<u8> = region.bytes().to_vec();
    let mut r = Region::new(clean.len());
    let mut check = |edit: &dyn Fn(&mut Region), expect: &dyn Fn(PoolError) -> bool| {
        r.bytes().copy_from_slice(&clean);
        attach(&r).expect("clean copy attaches");
        edit(&mut r);
        let err = attach(&r).expect_err("corrupt header must be rejected");
        assert!(expect(err), "{err:?}");
        assert!(!std::format!("{err}").is_empty());
    };
    check(&|r| r.write_u64(field::MAGIC, 0x1234), &|e| {
        e == PoolError::BadMagic { found: 0x1234 }
    });
    check(&|r| r.write_u32(field::VERSION, 9), &|e| {
        e == PoolError::UnsupportedVersion { found: 9 }
    });
    check(&|r| r.write_u32(field::CLASS_COUNT, 0), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    check(&|r| r.write_u32(field::CLASS_COUNT, 17), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    check(&|r| r.write_u32(field::CLASS_COUNT, u32::MAX), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    // A class table that would overflow the region (with a matching total, so only the
    // length check can catch it).
    check(
        &|r| {
            r.write_u32(field::CLASSES + 12, 1 << 30);
            let big = config(&[(64, 4), (128, 1 << 30)]);
            r.write_u64(field::TOTAL, Pool::required_size(&big).unwrap() as u64);
        },
        &|e| matches!(e, PoolError::RegionTooSmall { .. }),
    );
    // Slot sizes that are not powers of two, or not increasing.
    check(&|r| r.write_u32(field::CLASSES + 8, 96), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    check(&|r| r.write_u32(field::CLASSES + 8, 64), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    // A total that does not match the class table.
    check(&|r| r.write_u64(field::TOTAL, 64), &|e| {
        matches!(e, PoolError::Corrupt { .. })
    });
    // Huge counts whose product overflows u64 arithmetic.
    check(
        &|r| {
            for i in 0..16 {
                r.write_u32(field::CLASSES + 8 * i, 1 << (6 + i.min(25)));
                r.write_u32(field::CLASSES + 8 * i + 4, (1 << 31) - 1);
            }
            r.write_u32(field::CLASS_COUNT, 16);
        },
        &|e| {
            matches!(
                e,
                PoolError::Corrupt { .. } | PoolError::RegionTooSmall { .. }
            )
        },
    );
}

#[test]
fn init_and_attach_check_the_region() {
    let cfg = config(&[(64, 4)]);
    let len = Pool::required_size(&cfg).unwrap();
    let region = Region::new(len + 128);
    // SAFETY: in bounds; the pool is not used after an error.
    unsafe {
        assert_eq!(
            Pool::init(region.ptr, len - 64, &cfg).unwrap_err(),
            PoolError::RegionTooSmall {
                needed: len as u64,
                len: len - 64
            }
        );
        let odd = NonNull::new(region.ptr.as_ptr().add(8)).unwrap();
        assert!(matches!(
            Pool::init(odd, len, &cfg),
            Err(PoolError::BaseMisaligned { .. })
        ));
        assert!(matches!(
            Pool::attach(odd, len),
            Err(PoolError::BaseMisaligned { .. })
        ));
        assert!(matches!(
            Pool::attach(region.ptr, 100),
            Err(PoolError::RegionTooSmall { .. })
        ));
        // Never formatted: zeroes.
        assert_eq!(
            Pool::attach(region.ptr, len).unwrap_err(),
            PoolError::BadMagic { found: 0 }
        );
        let pool = Pool::init(region.ptr, len + 128, &cfg).unwrap();
        assert_eq!(pool.len(), len + 128);
        // A region shorter than the formatted layout is rejected on attach.
        assert!(matches!(
            Pool::attach(region.ptr, len - 64),
            Err(PoolError::RegionTooSmall { .. })
        ));
    }
}

// ---- corruption of the lists and states ----------------------------------------------

#[test]
fn corrupt_free_lists_are_errors_not_panics() {
    let (_region, pool) = pool_with(&config(&[(64, 4)]));
    let class = pool.layout().classes()[0];
    let head = pool.head(&class);
    let metas = pool.metas(&class);

    // A head naming a slot past the count.
    let saved = head.load(Ordering::Relaxed);
    head.store(freelist::pack(0, 99), Ordering::Relaxed);
    assert!(matches!(pool.alloc(1), Err(PoolError::Corrupt { .. })));
    head.store(saved, Ordering::Relaxed);

    // A link naming a slot past the count.
    metas[0].link.store(1000, Ordering::Relaxed);
    assert!(matches!(pool.alloc(1), Err(PoolError::Corrupt { .. })));
    metas[0].link.store(2, Ordering::Relaxed);

    // A slot on the list with a nonzero refcount: Corrupt, and the slot is left alone.
    metas[0].state.store(slot::state(3, 2), Ordering::Relaxed);
    assert!(matches!(pool.alloc(1), Err(PoolError::Corrupt { .. })));
    assert_eq!(metas[0].state.load(Ordering::Relaxed), slot::state(3, 2));
    // The rest of the list still works.
    assert_eq!(pool.alloc(1).unwrap().index, 1);

    // Sweep repairs: the bad slot had no live references.
    // SAFETY: single-threaded test: the pool is quiescent.
    let report = unsafe { pool.sweep(&mut |s| u32::from(s.index == 1)) };
    assert_eq!(report.reclaimed, 1);
    assert_eq!(metas[0].state.load(Ordering::Relaxed), slot::state(4, 0));
    assert_eq!(pool.stats().allocated_slots, 1);
}

// ---- sweep -------------------------------------------------------------------------

#[test]
fn sweep_restores_full_capacity() {
    let cfg = config(&[(64, 8), (256, 4)]);
    let (_region, pool) = pool_with(&cfg);
    // Slots the caller still holds (one with a refcount too high, one too low).
    let kept = pool.alloc(64).unwrap();
    let kept_fanout = pool.alloc(64).unwrap();
    pool.retain(&kept.descriptor(0, 0), 4).unwrap(); // refcount 5, but 1 live
    pool.retain(&kept_fanout.descriptor(0, 0), 1).unwrap(); // refcount 2, but 3 live
                                                            // Leaked by a dead process: allocated, no live references.
    let leaked = pool.alloc(200).unwrap();
    // A dead process popped a slot but died before claiming it.
    let class0 = pool.layout().classes()[0];
    let lost = freelist::pop(pool.head(&class0), pool.metas(&class0))
        .unwrap()
        .unwrap();
    // A dead process freed a slot (generation bumped) but died before pushing it.
    let class1 = pool.layout().classes()[1];
    let half_freed = pool.alloc(200).unwrap();
    pool.metas(&class1)[half_freed.index as usize]
        .state
        .store(slot::state(1, 0), Ordering::Relaxed);

    assert_eq!(pool.stats().allocated_slots, 3);

    let live = |s: &Slot| -> u32 {
        if s.offset == kept.offset {
            1
        } else if s.offset == kept_fanout.offset {
            3
        } else {
            0
        }
    };
    let mut asked = Vec::new();
    // SAFETY: single-threaded test: the pool is quiescent.
    let report = unsafe {
        pool.sweep(&mut |s| {
            asked.push(s.offset);
            live(s)
        })
    };
    asked.sort_unstable();
    let mut expected_asked = vec![kept.offset, kept_fanout.offset, leaked.offset];
    expected_asked.sort_unstable();
    assert_eq!(
        asked, expected_asked,
        "live_refs is asked about allocated slots only"
    );
    assert_eq!(
        report,
        SweepReport {
            reclaimed: 3, // leaked, lost, half_freed
            refcounts_adjusted: 2,
            lists_rebuilt: 0,
        }
    );
    assert_eq!(lost, 2);
    assert!(matches!(
        pool.validate(&leaked.descriptor(0, 0)),
        Err(PoolError::StaleGeneration { .. })
    ));
    // The kept slots have exactly their live counts.
    assert_eq!(pool.release(&kept.descriptor(0, 0)), Ok(true));
    let d = kept_fanout.descriptor(0, 0);
    assert_eq!(pool.release(&d), Ok(false));
    assert_eq!(pool.release(&d), Ok(false));
    assert_eq!(pool.release(&d), Ok(true));
    assert_full_capacity(&pool);
    // A second sweep finds nothing to do.
    // SAFETY: as above.
    let report = unsafe { pool.sweep(&mut |_| 0) };
    assert_eq!(report, SweepReport::default());
}

#[test]
fn sweep_rebuilds_a_cyclic_free_list() {
    let (_region, pool) = pool_with(&config(&[(64, 8)]));
    let class = pool.layout().classes()[0];
    let held = pool.alloc(1).unwrap(); // slot 0
                                       // List is now 1 -> 2 -> ... -> 7; make 3 point back to 1.
    pool.metas(&class)[3].link.store(2, Ordering::Relaxed);
    // SAFETY: single-threaded test: the pool is quiescent.
    let report = unsafe { pool.sweep(&mut |s| u32::from(s.offset == held.offset)) };
    assert_eq!(report.lists_rebuilt, 1);
    assert_eq!(report.reclaimed, 4, "slots 4..=7 were cut off by the cycle");
    assert_eq!(report.refcounts_adjusted, 0);
    assert_eq!(pool.release(&held.descriptor(0, 0)), Ok(true));
    assert_full_capacity(&pool);

    // A list containing an allocated slot is rebuilt too.
    let a = pool.alloc(1).unwrap();
    let saved = pool.head(&class).load(Ordering::Relaxed);
    pool.head(&class).store(
        freelist::pack(freelist::tag(saved), a.index + 1),
        Ordering::Relaxed,
    );
    // SAFETY: as above.
    let report = unsafe { pool.sweep(&mut |_| 1) };
    assert_eq!(report.lists_rebuilt, 1);
    assert_eq!(pool.release(&a.descriptor(0, 0)), Ok(true));
    assert_full_capacity(&pool);
}

// ---- stats -------------------------------------------------------------------------

#[test]
fn stats_on_a_known_pattern() {
    let (_region, pool) = pool_with(&config(&[(64, 4), (256, 2)]));
    let empty = pool.stats();
    assert_eq!(empty.allocated_slots, 0);
    assert_eq!(empty.utilization, 0.0);
    assert_eq!(empty.fragmentation, 0.0);
    assert_eq!(empty.total_slot_bytes, 4 * 64 + 2 * 256);

    let a = pool.alloc(64).unwrap(); // full 64-byte slot
    let _b = pool.alloc(32).unwrap(); // half of a 64-byte slot
    let c = pool.alloc(128).unwrap(); // half of a 256-byte slot
    pool.retain(&c.descriptor(0, 0), 2).unwrap(); // refcounts do not change stats
    let stats = pool.stats();
    assert_eq!(
        stats.classes,
        vec![
            ClassStats {
                slot_size: 64,
                count: 4,
                allocated: 2,
                requested_bytes: 96
            },
            ClassStats {
                slot_size: 256,
                count: 2,
                allocated: 1,
                requested_bytes: 128
            },
        ]
    );
    assert_eq!(stats.allocated_slots, 3);
    assert_eq!(stats.allocated_slot_bytes, 128 + 256);
    assert_eq!(stats.requested_bytes, 224);
    assert_eq!(stats.utilization, 384.0 / 768.0);
    assert_eq!(stats.occupancy, 3.0 / 6.0);
    assert_eq!(stats.fragmentation, 1.0 - 224.0 / 384.0);
    assert_eq!(stats.classes[0].occupancy(), 0.5);
    assert_eq!(stats.classes[1].occupancy(), 0.5);

    pool.release(&a.descriptor(0, 0)).unwrap();
    let stats = pool.stats();
    assert_eq!(stats.allocated_slots, 2);
    assert_eq!(stats.fragmentation, 1.0 - 160.0 / 320.0);
}

// ---- concurrency ---------------------------------------------------------------------

#[test]
fn four_threads_alloc_and_release() {
    let region = Arc::new({
        let cfg = PoolConfig::small();
        let (region, _) = pool_with(&cfg);
        region
    });
    let pool = attach(&region).unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let pool = pool.clone();
            let region = Arc::clone(&region);
            thread::spawn(move || {
                let _keep = region;
                let mut held: Vec<Slot> = Vec::new();
                let mut x = t.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                for i in 0..100_000u32 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let len = (x % 3000) as usize;
                    match pool.alloc(len) {
                        Ok(slot) => {
                            // SAFETY: the slot is ours alone until released.
                            unsafe { pool.slot_ptr(&slot).as_ptr().write(t as u8) };
                            held.push(slot);
                        }
                        Err(PoolError::Exhausted { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                    if held.len() > 3 || (i % 2 == 0 && !held.is_empty()) {
                        let slot = held.swap_remove((x as usize >> 8) % held.len());
                        // SAFETY: still ours: nobody else may have written it.
                        assert_eq!(unsafe { pool.slot_ptr(&slot).as_ptr().read() }, t as u8);
                        let d = slot.descriptor(0, 0);
                        pool.retain(&d, 1).unwrap();
                        assert_eq!(pool.release(&d), Ok(false));
                        assert_eq!(pool.release(&d), Ok(true));
                    }
                }
                for slot in held {
                    assert_eq!(pool.release(&slot.descriptor(0, 0)), Ok(true));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.allocated_slots, 0);
    assert_eq!(stats.utilization, 0.0);
    assert_full_capacity(&pool);
}

// ---- proptests -------------------------------------------------------------------------

proptest! {
    #[test]
    fn random_headers_never_panic(
        words in proptest::collection::vec(any::<u32>(), 40),
        keep_magic in any::<bool>(),
        len in 0usize..8192,
    ) {
        let mut r = Region::new(8192);
        for (i, w) in words.iter().enumerate() {
            r.write_u32(4 * i, *w);
        }
        if keep_magic {
            r.write_u64(field::MAGIC, layout::MAGIC);
            r.write_u32(field::VERSION, layout::VERSION);
        }
        // SAFETY: `len <= 8192` bytes of the region, which lives through the test.
        if let Ok(pool) = unsafe { Pool::attach(r.ptr, len) } {
            // Whatever it accepted must be usable without going out of bounds.
            let classes = (0..pool.class_count() as u8)
                .map(|c| ClassConfig { slot_size: pool.slot_size(c).unwrap(), count: 1 })
                .collect();
            let fits = Pool::required_size(&PoolConfig { classes }).is_ok();
            prop_assert!(fits);
            let _ = pool.alloc(64);
            let _ = pool.stats();
        }
    }

    #[test]
    fn random_descriptors_never_panic(
        words in proptest::collection::vec(any::<[u64; 2]>(), 1..64),
        near in proptest::collection::vec((0u64..6000, any::<u32>(), 0u32..3), 1..64),
    ) {
        let (_region, pool) = pool_with(&config(&[(64, 8), (256, 8), (1024, 2)]));
        let held: Vec<Slot> = [0, 10, 100, 200, 300, 1000].iter().map(|&len| pool.alloc(len).unwrap()).collect();
        let mut descriptors: Vec<Descriptor> = words.iter().map(|w| Descriptor::decode(*w)).collect();
        descriptors.extend(near.iter().map(|&(offset, len, generation)| Descriptor {
            offset, len: len % 1100, generation, flags: 0,
        }));
        for d in &descriptors {
            if let Ok(slot) = pool.validate(d) {
                prop_assert!(slot.offset as usize + slot.capacity as usize <= pool.len());
                prop_assert!(d.len <= slot.capacity);
                prop_assert!(held.iter().any(|h| h.offset == slot.offset));
            }
            let _ = pool.retain(d, 1).map(|()| pool.release(d));
        }
        // Random descriptors can only have released references they were given
        // (retain then release), so everything held is still held.
        for slot in &held {
            prop_assert_eq!(pool.validate(&slot.descriptor(0, 0)), Ok(*slot));
        }
    }

    #[test]
    fn random_metadata_corruption_is_repaired_by_sweep(
        garbage in proptest::collection::vec((0usize..1024, any::<u8>()), 0..64),
    ) {
        let cfg = config(&[(64, 8), (128, 8), (256, 4)]);
        let (mut region, pool) = pool_with(&cfg);
        let meta_start = HEADER_SIZE;
        let meta_end = pool.layout().meta_end;
        for (at, byte) in garbage {
            let at = meta_start + at % (meta_end - meta_start);
            region.bytes()[at] = byte;
        }
        // Nothing panics, whatever the metadata says.
        for len in [0, 64, 100, 200, 256] {
            if let Ok(slot) = pool.alloc(len) {
                let _ = pool.release(&slot.descriptor(0, 0));
            }
        }
        let _ = pool.stats();
        // SAFETY: single-threaded: quiescent.
        unsafe { pool.sweep(&mut |_| 0) };
        assert_full_capacity(&pool);
    }
}

// ---- lanes -------------------------------------------------------------------------

fn lane_with(capacity: u32) -> (Region, Lane) {
    let len = Lane::required_size(capacity);
    let region = Region::new(len);
    // SAFETY: ours, aligned, `len` bytes, outlives the lane.
    let lane = unsafe { Lane::init(region.ptr, len, capacity) }.unwrap();
    (region, lane)
}

#[test]
fn lane_is_fifo_and_reports_full_and_empty() {
    let (_region, lane) = lane_with(4);
    assert_eq!(lane.capacity(), 4);
    assert!(lane.is_empty());
    assert_eq!(lane.pop(), Ok(None));
    for round in 0..3u64 {
        for i in 0..4u64 {
            lane.push([round, i]).unwrap();
        }
        assert_eq!(lane.len(), 4);
        assert_eq!(lane.push([9, 9]), Err(LaneError::Full));
        for i in 0..4u64 {
            assert_eq!(lane.pop(), Ok(Some([round, i])));
        }
        assert_eq!(lane.pop(), Ok(None));
    }
    assert_eq!(lane.head(), 12);
    assert_eq!(lane.tail(), 12);
    assert_eq!(std::format!("{}", LaneError::Full), "lane is full");
}

#[test]
fn lane_drop_oldest_takes_from_the_front() {
    let (_region, lane) = lane_with(2);
    assert_eq!(lane.drop_oldest(), Ok(None));
    lane.push([1, 1]).unwrap();
    lane.push([2, 2]).unwrap();
    assert_eq!(lane.push([3, 3]), Err(LaneError::Full));
    assert_eq!(lane.drop_oldest(), Ok(Some([1, 1])));
    lane.push([3, 3]).unwrap();
    assert_eq!(lane.pop(), Ok(Some([2, 2])));
    assert_eq!(lane.pop(), Ok(Some([3, 3])));
    assert_eq!(lane.pop(), Ok(None));
}

#[test]
fn lane_detects_corrupt_counters() {
    let (mut region, lane) = lane_with(4);
    lane.push([1, 2]).unwrap();
    region.write_u64(64, 100); // head far past tail
    assert_eq!(lane.pop(), Err(LaneError::Corrupt));
    assert_eq!(lane.push([0, 0]), Err(LaneError::Corrupt));
    assert_eq!(lane.drop_oldest(), Err(LaneError::Corrupt));
    region.write_u64(64, 0);
    region.write_u64(128, 5); // tail ahead of head
    assert_eq!(lane.pop(), Err(LaneError::Corrupt));
    assert_eq!(lane.len(), 4, "len is clamped, never out of range");
    region.write_u64(64, 6);
    assert_eq!(
        lane.pop(),
        Ok(Some([0, 0])),
        "any in-range counters read some entry"
    );
}

#[test]
fn lane_attach_and_close() {
    let (mut region, lane) = lane_with(8);
    lane.push([7, 7]).unwrap();
    lane.close(1);
    lane.close(4);
    assert_eq!(lane.closed(), 5);
    // SAFETY: the region lives through the test.
    let other = unsafe { Lane::attach(region.ptr, region.len()) }.unwrap();
    assert_eq!(other.capacity(), 8);
    assert_eq!(other.closed(), 5);
    assert_eq!(other.pop(), Ok(Some([7, 7])));
    assert!(lane.is_empty());
    // SAFETY: as above; errors leave no handle.
    unsafe {
        assert!(matches!(
            Lane::attach(region.ptr, 150),
            Err(PoolError::RegionTooSmall { .. })
        ));
        assert!(matches!(
            Lane::init(region.ptr, region.len(), 3),
            Err(PoolError::InvalidConfig { .. })
        ));
        assert!(matches!(
            Lane::init(region.ptr, region.len(), 16),
            Err(PoolError::RegionTooSmall { .. })
        ));
    }
    region.write_u32(12, 6);
    // SAFETY: as above.
    assert!(matches!(
        unsafe { Lane::attach(region.ptr, region.len()) },
        Err(PoolError::Corrupt { .. })
    ));
    region.write_u32(12, 1 << 20);
    // SAFETY: as above.
    assert!(matches!(
        unsafe { Lane::attach(region.ptr, region.len()) },
        Err(PoolError::RegionTooSmall { .. })
    ));
    region.write_u64(0, 0);
    // SAFETY: as above.
    assert_eq!(
        unsafe { Lane::attach(region.ptr, region.len()) }.unwrap_err(),
        PoolError::BadMagic { found: 0 }
    );
    assert_eq!(Lane::required_size(8), 192 + 128);
    assert_eq!(Lane::required_size(1), 256);
    assert_eq!(Lane::required_size(u32::MAX) % ALIGN, 0);
}

#[test]
fn lane_spsc_keeps_a_million_entries_in_order() {
    const N: u64 = 1_000_000;
    let (region, lane) = lane_with(256);
    let region = Arc::new(region);
    let consumer = {
        let lane = lane.clone();
        let region = Arc::clone(&region);
        thread::spawn(move || {
            let _keep = region;
            let mut expected = 0u64;
            while expected < N {
                match lane.pop().unwrap() {
                    Some(entry) => {
                        assert_eq!(entry, [expected, !expected]);
                        expected += 1;
                    }
                    None => std::hint::spin_loop(),
                }
            }
        })
    };
    let mut next = 0u64;
    while next < N {
        match lane.push([next, !next]) {
            Ok(()) => next += 1,
            Err(LaneError::Full) => std::hint::spin_loop(),
            Err(e) => panic!("{e}"),
        }
    }
    consumer.join().unwrap();
    assert!(lane.is_empty());
    assert_eq!(lane.head(), N);
}

#[test]
fn lane_drop_oldest_races_pop_without_loss_or_duplicates() {
    const N: u64 = 200_000;
    let (region, lane) = lane_with(16);
    let region = Arc::new(region);
    let consumer = {
        let lane = lane.clone();
        let region = Arc::clone(&region);
        thread::spawn(move || {
            let _keep = region;
            let mut got = Vec::new();
            loop {
                match lane.pop().unwrap() {
                    Some([u64::MAX, _]) => return got,
                    Some(entry) => {
                        assert_eq!(entry[1], !entry[0], "torn entry");
                        got.push(entry[0]);
                    }
                    None => std::hint::spin_loop(),
                }
            }
        })
    };
    let mut dropped = Vec::new();
    for i in 0..N {
        loop {
            match lane.push([i, !i]) {
                Ok(()) => break,
                Err(LaneError::Full) => {
                    if let Some(entry) = lane.drop_oldest().unwrap() {
                        assert_eq!(entry[1], !entry[0]);
                        dropped.push(entry[0]);
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    while lane.push([u64::MAX, 0]).is_err() {
        std::hint::spin_loop();
    }
    let got = consumer.join().unwrap();
    assert!(got.windows(2).all(|w| w[0] < w[1]), "consumer order");
    assert!(dropped.windows(2).all(|w| w[0] < w[1]), "dropped order");
    let mut all: Vec<u64> = got.iter().chain(&dropped).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..N).collect::<Vec<_>>(),
        "each entry taken exactly once"
    );
}
