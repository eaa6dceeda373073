//! Handles for the raw lookup calls: a per-thread table from small integers to the
//! live `Ring` objects that asked for one.
//!
//! A `Ring` registers itself the first time JavaScript asks for its handle, which
//! happens in a method call, so the address registered is the one napi-rs boxed and
//! will not move. `Ring`'s `Drop` removes the entry before the memory is freed, so an
//! entry always points to a live ring. JavaScript runs one thread per environment
//! (each worker has its own table), and a finalizer runs on its object's thread.

use std::cell::RefCell;

use crate::ring::Ring;

#[derive(Default)]
struct Table {
    entries: Vec<*const Ring>,
    free: Vec<u32>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

/// Registers a ring at its final (boxed) address and returns its handle.
pub fn register(ring: *const Ring) -> u32 {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if let Some(slot) = t.free.pop() {
            t.entries[slot as usize] = ring;
            slot
        } else {
            t.entries.push(ring);
            (t.entries.len() - 1) as u32
        }
    })
}

/// Removes a handle (called by `Ring`'s `Drop`).
pub fn unregister(slot: u32) {
    // During thread teardown the table may already be gone; nothing to remove then.
    let _ = TABLE.try_with(|t| {
        let mut t = t.borrow_mut();
        if let Some(e) = t.entries.get_mut(slot as usize) {
            *e = std::ptr::null();
            t.free.push(slot);
        }
    });
}

/// Runs `f` on the ring behind `slot`, or returns `None` for an unknown handle.
pub fn with<R>(slot: u32, f: impl FnOnce(&Ring) -> R) -> Option<R> {
    let ptr = TABLE.with(|t| t.borrow().entries.get(slot as usize).copied())?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null entries point to live, boxed rings (see the module docs), and
    // no `&mut Ring` exists while JavaScript is calling a raw function on this thread.
    Some(f(unsafe { &*ptr }))
}
