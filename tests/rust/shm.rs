//! `shoal_core::native::shm` against the real OS: segments in `/dev/shm`, process
//! identity from `/proc`, shared futexes, CPU affinity.
//!
//! Every segment name carries this test process's pid and is unlinked by a guard, so
//! runs do not collide and nothing is left behind, even when a test fails.

use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use shoal_core::native::shm::{
    available_cpus, os_name, pin_current_thread, validate_name, wait, wake, ProcessId, Segment,
    WaitOutcome, MAX_NAME_LEN,
};

/// A unique segment name for this test process, unlinked (if it exists) on drop.
struct Name(String);

impl Name {
    fn new(label: &str) -> Name {
        let name = Name(format!("test-{}-{label}", std::process::id()));
        // A leftover from a crashed earlier run with the same pid would break the test.
        let _ = Segment::unlink(&name.0);
        name
    }

    /// Where Linux shows the object.
    fn path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/shm/shoal-{}", self.0))
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = Segment::unlink(&self.0);
    }
}

/// A child process that is killed and reaped on drop if the test did not.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn sleeper() -> ChildGuard {
        ChildGuard(Some(
            Command::new("/bin/sleep")
                .arg("30")
                .spawn()
                .expect("spawn /bin/sleep 30"),
        ))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already reaped")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Copies `bytes` into `segment` at `offset`.
fn write(segment: &Segment, offset: usize, bytes: &[u8]) {
    assert!(offset + bytes.len() <= segment.len());
    // SAFETY: the range is inside the mapping (checked above), which lives as long as
    // `segment`; no other thread touches these bytes during the test.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            segment.as_ptr().as_ptr().add(offset),
            bytes.len(),
        )
    }
}

/// Copies `len` bytes of `segment` from `offset`.
fn read(segment: &Segment, offset: usize, len: usize) -> Vec<u8> {
    assert!(offset + len <= segment.len());
    let mut out = vec![0; len];
    // SAFETY: as in `write`.
    unsafe {
        std::ptr::copy_nonoverlapping(segment.as_ptr().as_ptr().add(offset), out.as_mut_ptr(), len)
    }
    out
}

/// The 32-bit word at `offset` of `segment`.
fn word(segment: &Segment, offset: usize) -> &AtomicU32 {
    assert!(offset % 4 == 0 && offset + 4 <= segment.len());
    // SAFETY: the mapping is page-aligned, so `offset % 4 == 0` makes the address aligned
    // for `AtomicU32`; it is inside the mapping, which outlives the returned reference
    // (tied to `segment`); the word is only ever accessed atomically.
    unsafe { &*segment.as_ptr().as_ptr().add(offset).cast::<AtomicU32>() }
}

fn kind<T: std::fmt::Debug>(result: io::Result<T>) -> io::ErrorKind {
    result.expect_err("expected an error").kind()
}

#[test]
fn create_write_open_read() {
    let name = Name::new("rw");
    let a = Segment::create(&name.0, 10_000).unwrap();
    assert_eq!(a.name(), name.0);
    assert!(a.len() >= 10_000);
    assert_eq!(a.len() % shoal_core::native::shm::page_size(), 0);
    assert_eq!(
        a.as_ptr().as_ptr() as usize % shoal_core::native::shm::page_size(),
        0
    );
    assert!(!a.is_empty());
    assert!(Segment::exists(&name.0));
    // Zero-filled.
    assert!(read(&a, 0, a.len()).iter().all(|&b| b == 0));

    write(&a, 100, b"hello, shoal");
    let b = Segment::open(&name.0).unwrap();
    assert_eq!(b.len(), a.len());
    assert_ne!(
        a.as_ptr(),
        b.as_ptr(),
        "a second mapping has its own address"
    );
    assert_eq!(read(&b, 100, 12), b"hello, shoal");

    // And back the other way, at the far end.
    write(&b, b.len() - 3, b"end");
    assert_eq!(read(&a, a.len() - 3, 3), b"end");

    let mode = std::fs::metadata(name.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    // Dropping mappings does not unlink.
    drop(a);
    drop(b);
    assert!(Segment::exists(&name.0));
    let c = Segment::open(&name.0).unwrap();
    assert_eq!(read(&c, 100, 12), b"hello, shoal");
}

#[test]
fn create_of_an_existing_name_is_already_exists() {
    let name = Name::new("dup");
    let first = Segment::create(&name.0, 4096).unwrap();
    write(&first, 0, b"first");
    let err = Segment::create(&name.0, 4096).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert!(err.to_string().contains(&name.0), "{err}");
    // The failed create did not disturb the existing segment.
    assert_eq!(read(&Segment::open(&name.0).unwrap(), 0, 5), b"first");
}

#[test]
fn create_of_size_zero_is_invalid_input_and_leaves_nothing() {
    let name = Name::new("zero-create");
    assert_eq!(
        kind(Segment::create(&name.0, 0)),
        io::ErrorKind::InvalidInput
    );
    assert!(!Segment::exists(&name.0));
    assert_eq!(
        kind(Segment::create(&name.0, usize::MAX)),
        io::ErrorKind::InvalidInput
    );
    assert!(!Segment::exists(&name.0));
}

#[test]
fn a_size_the_system_refuses_leaves_no_segment_behind() {
    // Larger than any tmpfs or address space allows: sizing or mapping fails after the
    // object was created, and create must unlink it again.
    let name = Name::new("huge");
    let result = Segment::create(&name.0, 1 << 62);
    assert!(result.is_err(), "a 4 EiB segment was created");
    assert!(!Segment::exists(&name.0));
    assert!(!name.path().exists());
}

#[test]
fn open_and_unlink_of_missing_names_are_not_found() {
    let name = Name::new("missing");
    assert_eq!(kind(Segment::open(&name.0)), io::ErrorKind::NotFound);
    assert_eq!(kind(Segment::unlink(&name.0)), io::ErrorKind::NotFound);
    assert!(!Segment::exists(&name.0));

    let seg = Segment::create(&name.0, 1).unwrap();
    Segment::unlink(&name.0).unwrap();
    assert!(!Segment::exists(&name.0));
    assert_eq!(kind(Segment::open(&name.0)), io::ErrorKind::NotFound);
    assert_eq!(kind(Segment::unlink(&name.0)), io::ErrorKind::NotFound);
    // The mapping outlives the name.
    write(&seg, 0, b"still here");
    assert_eq!(read(&seg, 0, 10), b"still here");
}

#[test]
fn invalid_names_are_rejected() {
    let long = "a".repeat(MAX_NAME_LEN + 1);
    for bad in [
        "",
        "a/b",
        ".x",
        "..",
        long.as_str(),
        "é",
        "caf\u{e9}",
        "a b",
        "a\0b",
    ] {
        assert_eq!(
            kind(validate_name(bad)),
            io::ErrorKind::InvalidInput,
            "{bad:?}"
        );
        assert_eq!(
            kind(Segment::create(bad, 4096)),
            io::ErrorKind::InvalidInput,
            "{bad:?}"
        );
        assert_eq!(
            kind(Segment::open(bad)),
            io::ErrorKind::InvalidInput,
            "{bad:?}"
        );
        assert_eq!(
            kind(Segment::unlink(bad)),
            io::ErrorKind::InvalidInput,
            "{bad:?}"
        );
        assert!(!Segment::exists(bad));
    }
    let max = "b".repeat(MAX_NAME_LEN);
    for good in ["orders", "swarm-1.bus", "A_z.0-9", "x.", max.as_str()] {
        validate_name(good).unwrap();
    }
    assert_eq!(os_name("orders").unwrap(), "/shoal-orders");
}

#[test]
fn open_of_an_unsized_or_odd_sized_object_is_invalid_data() {
    let name = Name::new("unsized");
    // What `create` leaves for an instant between open and ftruncate.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(name.path())
        .unwrap();
    let err = Segment::open(&name.0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("being created or is damaged"),
        "{err}"
    );

    file.set_len(100).unwrap();
    assert_eq!(kind(Segment::open(&name.0)), io::ErrorKind::InvalidData);

    file.set_len(2 * shoal_core::native::shm::page_size() as u64)
        .unwrap();
    assert_eq!(
        Segment::open(&name.0).unwrap().len(),
        2 * shoal_core::native::shm::page_size()
    );
}

#[test]
fn the_current_process_is_alive() {
    let me = ProcessId::current().unwrap();
    assert_eq!(me.pid, std::process::id());
    assert!(me.is_alive());
    assert_eq!(ProcessId::of(me.pid).unwrap(), Some(me));
    let reused = ProcessId {
        start_time: me.start_time + 1,
        ..me
    };
    assert!(
        !reused.is_alive(),
        "a different start time is another process"
    );
}

#[test]
fn a_killed_child_is_dead_before_and_gone_after_it_is_reaped() {
    let mut guard = ChildGuard::sleeper();
    let pid = guard.child().id();
    let child = ProcessId::of(pid).unwrap().expect("the child exists");
    assert!(child.is_alive());
    assert_ne!(child, ProcessId::current().unwrap());

    guard.child().kill().unwrap();
    // SIGKILL takes effect when the child next runs; it then stays a zombie until reaped.
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.is_alive() {
        assert!(
            Instant::now() < deadline,
            "killed child still alive after 10 s"
        );
        thread::sleep(Duration::from_millis(1));
    }
    // Not reaped yet: still in /proc with the same identity, but not alive.
    assert_eq!(ProcessId::of(pid).unwrap(), Some(child));
    assert!(!child.is_alive());

    guard.child().wait().unwrap();
    guard.0 = None;
    assert!(!child.is_alive());
    match ProcessId::of(pid).unwrap() {
        None => {}
        // The pid was handed to a new process already (very unlikely): not the same one.
        Some(other) => assert_ne!(other, child),
    }
}

#[test]
fn a_pid_that_does_not_exist_has_no_identity() {
    // Above the kernel's largest pid_max (2^22).
    assert_eq!(ProcessId::of(u32::MAX).unwrap(), None);
    assert!(!ProcessId {
        pid: u32::MAX,
        start_time: 0
    }
    .is_alive());
}

#[test]
fn futex_wait_times_out_on_an_unchanged_word() {
    let word = AtomicU32::new(7);
    let outcome = loop {
        match wait(&word, 7, Some(Duration::from_millis(20))) {
            WaitOutcome::Interrupted => continue,
            outcome => break outcome,
        }
    };
    assert_eq!(outcome, WaitOutcome::TimedOut);
    // A zero timeout returns at once.
    assert_eq!(wait(&word, 7, Some(Duration::ZERO)), WaitOutcome::TimedOut);
}

#[test]
fn futex_wait_on_a_changed_word_returns_at_once() {
    let word = AtomicU32::new(1);
    assert_eq!(wait(&word, 0, None), WaitOutcome::ValueChanged);
    assert_eq!(
        wait(&word, 2, Some(Duration::from_secs(10))),
        WaitOutcome::ValueChanged
    );
    assert_eq!(wake(&word, u32::MAX), 0, "nobody waits");
}

#[test]
fn futex_wake_from_another_thread() {
    let word = Arc::new(AtomicU32::new(0));
    let waiter = {
        let word = Arc::clone(&word);
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                assert!(Instant::now() < deadline, "never woken");
                match wait(&word, 0, Some(Duration::from_secs(10))) {
                    WaitOutcome::Interrupted => continue,
                    outcome => return outcome,
                }
            }
        })
    };
    thread::sleep(Duration::from_millis(50));
    word.store(1, Ordering::Release);
    let woken = wake(&word, u32::MAX);
    let outcome = waiter.join().unwrap();
    assert!(
        matches!(outcome, WaitOutcome::Woken | WaitOutcome::ValueChanged),
        "{outcome:?}"
    );
    if woken == 1 {
        assert_eq!(outcome, WaitOutcome::Woken);
    }
    assert!(woken <= 1);
}

#[test]
fn futex_is_shared_between_two_mappings_of_one_segment() {
    let name = Name::new("futex");
    let a = Segment::create(&name.0, 4096).unwrap();
    let b = Segment::open(&name.0).unwrap();
    assert_ne!(a.as_ptr(), b.as_ptr());
    let offset = 64;

    thread::scope(|scope| {
        let waiter = scope.spawn(|| loop {
            // Waits through mapping A; only a wake keyed by the shared object (not by
            // address) can end this before the timeout.
            match wait(word(&a, offset), 0, Some(Duration::from_secs(10))) {
                WaitOutcome::Interrupted => continue,
                outcome => return outcome,
            }
        });
        // The word never changes, so the waiter cannot return ValueChanged: keep waking
        // through mapping B until the wake reaches it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut woken = 0;
        while woken == 0 {
            assert!(
                Instant::now() < deadline,
                "wake through B never reached A's waiter"
            );
            thread::sleep(Duration::from_millis(5));
            woken = wake(word(&b, offset), 1);
        }
        assert_eq!(woken, 1);
        assert_eq!(waiter.join().unwrap(), WaitOutcome::Woken);
    });
}

#[test]
fn pinning_to_cpu_0_works_and_to_a_missing_cpu_fails() {
    assert!(available_cpus() >= 1);
    // In a thread of its own, so the test harness's threads keep their affinity.
    thread::spawn(|| {
        pin_current_thread(0).unwrap();
        assert_eq!(available_cpus(), 1);
        let err = pin_current_thread(10_000).unwrap_err();
        assert!(err.to_string().contains("10000"), "{err}");
        // Still pinned to cpu 0 after the failed call.
        assert_eq!(available_cpus(), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn futex_wake_of_u32_max_wakes_every_waiter() {
    // The kernel reads the count as signed: u32::MAX passed through unchanged would be -1
    // and wake a single thread.
    const WAITERS: u32 = 3;
    let word = AtomicU32::new(0);
    let ready = AtomicU32::new(0);
    thread::scope(|scope| {
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                scope.spawn(|| {
                    ready.fetch_add(1, Ordering::AcqRel);
                    loop {
                        match wait(&word, 0, Some(Duration::from_secs(10))) {
                            WaitOutcome::Interrupted => continue,
                            outcome => return outcome,
                        }
                    }
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ready.load(Ordering::Acquire) < WAITERS {
            assert!(Instant::now() < deadline, "waiters never started");
            thread::sleep(Duration::from_millis(1));
        }
        // Give the last one time to enter the kernel; then one call must wake them all.
        thread::sleep(Duration::from_millis(50));
        let mut total = 0;
        let mut most = 0;
        while total < WAITERS {
            assert!(Instant::now() < deadline, "woke only {total} of {WAITERS}");
            let woken = wake(&word, u32::MAX);
            total += woken;
            most = most.max(woken);
            thread::sleep(Duration::from_millis(5));
        }
        assert!(most > 1, "wake(u32::MAX) never woke more than one thread");
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), WaitOutcome::Woken);
        }
    });
}

#[test]
fn open_of_another_users_segment_is_permission_denied() {
    let name = Name::new("foreign");
    let seg = Segment::create(&name.0, 4096).unwrap();
    drop(seg);
    // Giving the object away needs root; as another user the check cannot be staged.
    if std::os::unix::fs::chown(name.path(), Some(12_345), None).is_err() {
        eprintln!("skipped: chown needs root");
        return;
    }
    let mut mode = std::fs::metadata(name.path()).unwrap().permissions();
    mode.set_mode(0o666);
    std::fs::set_permissions(name.path(), mode).unwrap();
    let err = Segment::open(&name.0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("12345"), "{err}");
}
