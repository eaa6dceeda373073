//! Cross-process futex wait and wake on a 32-bit word, typically in a [`Segment`].
//!
//! The futexes here are *shared* (no `FUTEX_PRIVATE_FLAG`): the kernel keys them by the
//! underlying memory object and offset, not by address, so a waiter and a waker may use
//! different mappings of the same segment, in the same or in different processes. This
//! file only sleeps and wakes; what the word means is the caller's protocol.
//!
//! [`Segment`]: super::Segment

use core::sync::atomic::AtomicU32;
use core::time::Duration;

use rustix::io::Errno;
use rustix::thread::futex;

/// How a [`wait`] ended. In every case the caller must re-read the word: futex wake-ups
/// may be spurious, and the word may have changed again since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitOutcome {
    /// The thread slept and was woken (by [`wake`], or spuriously).
    Woken,
    /// The word did not hold `expected` when the wait began (`EAGAIN`); the thread did
    /// not sleep.
    ValueChanged,
    /// The timeout passed without a wake-up (`ETIMEDOUT`).
    TimedOut,
    /// A signal handler interrupted the sleep (`EINTR`).
    Interrupted,
}

/// Sleeps while `word` holds `expected`, until woken by [`wake`] on the same word
/// (through any mapping, in any process), until `timeout` (relative; `None` = no limit)
/// passes, or until a signal arrives.
///
/// The check of the word and going to sleep are one atomic step in the kernel, so a
/// [`wake`] issued after the word was changed cannot be missed.
///
/// Any other error from the kernel (there is none for a valid reference to a word) is
/// reported as [`WaitOutcome::Woken`], i.e. as a spurious wake-up.
pub fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
    let timeout = timeout.map(|d| futex::Timespec {
        // Durations beyond the i64 range of seconds (292 billion years) wait "forever".
        tv_sec: futex::Secs::try_from(d.as_secs()).unwrap_or(futex::Secs::MAX),
        // Below 10^9, so it fits `Nsecs` on every target (i64, or a 32-bit c_long).
        tv_nsec: d.subsec_nanos() as futex::Nsecs,
    });
    match futex::wait(word, futex::Flags::empty(), expected, timeout.as_ref()) {
        Ok(()) => WaitOutcome::Woken,
        Err(Errno::AGAIN) => WaitOutcome::ValueChanged,
        Err(Errno::TIMEDOUT) => WaitOutcome::TimedOut,
        Err(Errno::INTR) => WaitOutcome::Interrupted,
        Err(_) => WaitOutcome::Woken,
    }
}

/// Wakes up to `n` threads sleeping in [`wait`] on `word` (through any mapping, in any
/// process) and returns how many were woken. `u32::MAX` (or anything above `i32::MAX`,
/// the kernel's limit) wakes all of them.
pub fn wake(word: &AtomicU32, n: u32) -> u32 {
    // The kernel takes a signed count: a value above i32::MAX would read as negative and
    // wake only one thread, so clamp.
    let n = n.min(i32::MAX as u32);
    match futex::wake(word, futex::Flags::empty(), n) {
        Ok(woken) => u32::try_from(woken).unwrap_or(u32::MAX),
        Err(_) => 0,
    }
}
