//! Steady-state bus traffic does not touch the heap: a counting global allocator
//! proves that sending and receiving single messages allocates nothing, and that
//! batched messages cost less than one allocation per hundred messages (the hold that
//! a batch's messages share).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use shoal_core::native::bus::{Bus, BusConfig, EndpointConfig};

struct Counting;

thread_local! {
    // Per thread: the test harness's own threads allocate while a loaded machine
    // runs this test slowly, and those allocations are not the bus's.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no slot left, and is not ours.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn sending_and_receiving_does_not_allocate() {
    let name = format!("noalloc-{}", std::process::id());
    let bus = Bus::create(&name, &BusConfig::small()).unwrap();
    let mut rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("e").unwrap();
    let round = |tx: &mut shoal_core::native::bus::Sender,
                 rx: &mut shoal_core::native::bus::Receiver| {
        let mut loan = tx.loan(64).unwrap();
        loan[0] = 7;
        tx.send(loan).unwrap();
        let m = rx.try_recv().unwrap().unwrap();
        assert_eq!(m[0], 7);
    };
    for _ in 0..100 {
        round(&mut tx, &mut rx); // warm up: lanes discovered, caches filled
    }
    let before = allocations();
    for _ in 0..10_000 {
        round(&mut tx, &mut rx);
    }
    assert_eq!(allocations() - before, 0, "allocations in 10 000 messages");

    // Batched: allocations happen per batch, not per message.
    let msg = [1u8; 56];
    for _ in 0..2_000 {
        tx.send_batched(&msg).unwrap();
    }
    tx.flush().unwrap();
    while rx.try_recv().unwrap().is_some() {}
    let before = allocations();
    let per_batch = 65_536 / 64;
    let mut got = 0;
    for _ in 0..10 {
        for _ in 0..per_batch {
            tx.send_batched(&msg).unwrap();
        }
        tx.flush().unwrap();
        while let Some(m) = rx.try_recv().unwrap() {
            assert_eq!(m.len(), 56);
            got += 1;
        }
    }
    assert_eq!(got, 10 * per_batch);
    let allocs = allocations() - before;
    // Per batch (the hold the batch's messages share), never per message.
    assert!(
        allocs * 100 <= got as u64,
        "{allocs} allocations for {got} batched messages"
    );
}
