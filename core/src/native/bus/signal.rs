//! The one wake-up handshake of the bus: a side that made progress (a producer that
//! pushed, a consumer that made room) wakes the other side only if it announced that it
//! is parking. The fence pairs with the waiter's `store(1, SeqCst)` + fence + re-check,
//! so either the waiter sees the progress or the waker sees the flag.

use core::sync::atomic::{fence, AtomicU32, Ordering};

use crate::native::shm;

/// Bumps `word` and wakes one waiter on it if `waiting` is set.
pub(crate) fn wake_if_waiting(waiting: &AtomicU32, word: &AtomicU32) {
    fence(Ordering::SeqCst);
    if waiting.load(Ordering::Relaxed) != 0 {
        word.fetch_add(1, Ordering::Release);
        shm::wake(word, 1);
    }
}
