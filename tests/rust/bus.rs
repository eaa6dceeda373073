//! The shared-memory bus: in-process behaviour, backpressure policies, hostile
//! descriptors, and multi-process send/receive, kill -9 reclaim and segment lifetime
//! with real child processes (`bus-peer`, in `rust/bin/`). Every child is killed and
//! reaped when its guard drops; every wait has a deadline.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shoal_core::native::bus::{
    Backpressure, Bus, BusConfig, BusError, EndpointConfig, WaitStrategy,
};
use shoal_core::native::shm::Segment;
use shoal_core::pool::Descriptor;

const PEER: &str = env!("CARGO_BIN_EXE_bus-peer");

fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn small_bus(tag: &str) -> Bus {
    Bus::create(&unique(tag), &BusConfig::small()).expect("create bus")
}

fn allocated(bus: &Bus) -> u64 {
    bus.stats().pool.allocated_slots
}

/// A child `bus-peer`, killed and reaped on drop.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Peer {
    fn spawn(args: &[&str]) -> Peer {
        let mut child = Command::new(PEER)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn bus-peer");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let peer = Peer {
            child,
            stdin,
            lines,
        };
        peer.expect("ready");
        peer
    }

    /// Waits (10 s at most) for a line starting with `prefix`.
    fn expect(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => continue,
                Err(_) => panic!("bus-peer did not print {prefix:?} within 10 s"),
            }
        }
    }

    fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    fn wait_success(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "bus-peer failed: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "bus-peer did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn policy(backpressure: Backpressure) -> EndpointConfig {
    EndpointConfig {
        backpressure,
        wait: WaitStrategy::default(),
    }
}

#[test]
fn round_trip_in_process_reads_the_senders_bytes() {
    let bus = small_bus("rt");
    let mut rx = bus.endpoint("inbox", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("inbox").unwrap();
    let mut loan = tx.loan(300).unwrap();
    assert_eq!(loan.len(), 300);
    assert!(loan.capacity() >= 300);
    loan.copy_from_slice(&[9u8; 300]);
    let at = loan.offset();
    tx.send(loan).unwrap();
    assert_eq!(allocated(&bus), 1);
    let m = rx.recv().unwrap();
    assert_eq!(m.offset(), at, "the receiver sees the loaned slot itself");
    assert_eq!(&m[..], &[9u8; 300][..]);
    let bytes = m.into_bytes();
    assert_eq!(bytes.len(), 300);
    assert_eq!(allocated(&bus), 1, "Bytes keeps the slot alive");
    drop(bytes);
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn try_recv_and_timeout_on_an_empty_endpoint() {
    let bus = small_bus("empty");
    let mut rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
    assert!(rx.try_recv().unwrap().is_none());
    let _tx = bus.sender("e").unwrap();
    assert!(rx.try_recv().unwrap().is_none());
    let start = Instant::now();
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(30)),
        Err(BusError::Timeout)
    ));
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn names_and_endpoints_are_checked() {
    assert!(matches!(
        Bus::create("a/b", &BusConfig::small()),
        Err(BusError::InvalidName(_))
    ));
    assert!(matches!(
        Bus::open(&unique("missing")),
        Err(BusError::NotFound(_))
    ));
    let bus = small_bus("names");
    assert!(matches!(
        Bus::create(bus.name(), &BusConfig::small()),
        Err(BusError::AlreadyExists(_))
    ));
    let _rx = bus.endpoint("taken", EndpointConfig::default()).unwrap();
    assert!(matches!(
        bus.endpoint("taken", EndpointConfig::default()),
        Err(BusError::EndpointTaken(_))
    ));
    assert!(matches!(
        bus.sender("nobody"),
        Err(BusError::NoSuchEndpoint(_))
    ));
    assert!(matches!(
        bus.endpoint("", EndpointConfig::default()),
        Err(BusError::InvalidName(_))
    ));
    assert!(matches!(
        bus.endpoint(&"x".repeat(65), EndpointConfig::default()),
        Err(BusError::InvalidName(_))
    ));
    assert!(matches!(
        bus.endpoint("sp ace", EndpointConfig::default()),
        Err(BusError::InvalidName(_))
    ));
    let mut bad = BusConfig::small();
    bad.lane_capacity = 100;
    assert!(matches!(
        Bus::create(&unique("cfg"), &bad),
        Err(BusError::InvalidConfig(_))
    ));
}

#[test]
fn full_lane_with_error_policy_hands_the_message_back() {
    let bus = small_bus("full");
    let mut rx = bus.endpoint("e", policy(Backpressure::Error)).unwrap();
    let mut tx = bus.sender("e").unwrap();
    let cap = BusConfig::small().lane_capacity as u64;
    for i in 0..cap {
        tx.send_copy(&i.to_le_bytes()).unwrap();
    }
    let mut loan = tx.loan(8).unwrap();
    loan.copy_from_slice(&cap.to_le_bytes());
    let err = tx.send(loan).unwrap_err();
    assert!(matches!(err.error, BusError::Full));
    assert_eq!(&err.loan[..], &cap.to_le_bytes());
    let first = rx.recv().unwrap();
    assert_eq!(&first[..], &0u64.to_le_bytes());
    tx.send(err.loan).unwrap();
}

#[test]
fn drop_oldest_discards_the_oldest_and_frees_it() {
    let bus = small_bus("dropold");
    let mut rx = bus.endpoint("e", policy(Backpressure::DropOldest)).unwrap();
    let mut tx = bus.sender("e").unwrap();
    let cap = BusConfig::small().lane_capacity as u64;
    for i in 0..cap + 10 {
        tx.send_copy(&i.to_le_bytes()).unwrap();
    }
    assert_eq!(bus.stats().dropped, 10);
    assert_eq!(
        allocated(&bus),
        cap,
        "dropped messages went back to the pool"
    );
    let got: Vec<u64> = (0..cap)
        .map(|_| u64::from_le_bytes(rx.recv().unwrap()[..8].try_into().unwrap()))
        .collect();
    assert_eq!(got, (10..cap + 10).collect::<Vec<_>>());
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn block_policy_waits_for_the_consumer() {
    let bus = small_bus("block");
    let mut rx = bus.endpoint("e", policy(Backpressure::Block)).unwrap();
    let mut tx = bus.sender("e").unwrap();
    let n = 2_000u64;
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send_copy(&i.to_le_bytes()).unwrap();
        }
    });
    for i in 0..n {
        if i % 100 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(&m[..], &i.to_le_bytes());
    }
    producer.join().unwrap();
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn many_senders_reach_one_receiver_in_per_sender_order() {
    let bus = small_bus("many");
    let mut rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
    let (senders, per) = (4u64, 5_000u64);
    let threads: Vec<_> = (0..senders)
        .map(|s| {
            let mut tx = bus.sender("e").unwrap();
            std::thread::spawn(move || {
                for i in 0..per {
                    tx.send_copy(&(s << 32 | i).to_le_bytes()).unwrap();
                }
            })
        })
        .collect();
    let mut next = vec![0u64; senders as usize];
    for _ in 0..senders * per {
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let v = u64::from_le_bytes(m[..8].try_into().unwrap());
        let (s, i) = ((v >> 32) as usize, v & 0xffff_ffff);
        assert_eq!(i, next[s], "sender {s} out of order");
        next[s] += 1;
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(rx.try_recv().unwrap().is_none());
    // The senders are gone and their lanes drained: the receiver released them.
    assert_eq!(bus.stats().lanes, 0);
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn a_closed_endpoint_fails_its_senders_and_frees_queued_messages() {
    let bus = small_bus("closed");
    let rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("e").unwrap();
    tx.send_copy(b"queued").unwrap();
    assert_eq!(allocated(&bus), 1);
    drop(rx);
    let err = tx.send_copy(b"late").unwrap_err();
    assert!(matches!(err, BusError::EndpointGone(_)), "{err}");
    drop(tx);
    assert_eq!(allocated(&bus), 0);
    assert_eq!(bus.stats().lanes, 0);
    // The name is free again.
    let _rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
}

#[test]
fn corrupt_descriptors_are_errors_and_counted() {
    let bus = small_bus("corrupt");
    let mut rx = bus.endpoint("e", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("e").unwrap();
    // A real descriptor, then made stale by receiving and dropping it.
    let loan = tx.loan(64).unwrap();
    let good = Descriptor {
        offset: loan.offset(),
        len: 64,
        generation: 0,
        flags: 0,
    };
    tx.send(loan).unwrap();
    let first = rx.recv().unwrap();
    drop(first);
    let pool_len = bus.stats().pool.total_slot_bytes;
    let bad = [
        Descriptor { offset: 0, ..good }, // the pool header
        Descriptor {
            offset: pool_len * 2,
            ..good
        }, // past the end
        Descriptor {
            offset: good.offset + 8,
            ..good
        }, // not a slot start
        Descriptor {
            len: 1 << 30,
            ..good
        }, // longer than any slot
        Descriptor {
            generation: good.generation + 7,
            ..good
        },
        good, // stale: already freed
    ];
    for (k, d) in bad.iter().enumerate() {
        tx.push_raw_descriptor(d.encode()).unwrap();
        let r = rx.recv_timeout(Duration::from_secs(1));
        assert!(
            matches!(r, Err(BusError::Pool(_))),
            "bad descriptor {k} gave {r:?}"
        );
        assert_eq!(bus.stats().corrupt, k as u64 + 1);
    }
    tx.send_copy(b"still works").unwrap();
    assert_eq!(&rx.recv().unwrap()[..], b"still works");
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn two_processes_exchange_messages() {
    let bus = small_bus("echo");
    let mut back = bus.endpoint("back", EndpointConfig::default()).unwrap();
    let mut peer = Peer::spawn(&["echo", bus.name(), "out", "back"]);
    let mut out = bus.sender("out").unwrap();
    for i in 0..2_000u64 {
        let mut loan = out.loan(64).unwrap();
        loan.fill(i as u8);
        loan[..8].copy_from_slice(&i.to_le_bytes());
        out.send(loan).unwrap();
        let m = back.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(&m[..8], &i.to_le_bytes());
        assert!(m[8..].iter().all(|&b| b == i as u8));
    }
    out.send_copy(b"stop").unwrap();
    peer.wait_success();
}

#[test]
fn a_child_sends_small_and_one_mebibyte_messages_in_order() {
    let bus = Bus::create(&unique("big"), &BusConfig::default()).unwrap();
    let mut rx = bus.endpoint("in", EndpointConfig::default()).unwrap();
    for (count, size) in [(5_000u64, 64usize), (16, 1 << 20)] {
        let mut peer = Peer::spawn(&[
            "send",
            bus.name(),
            "in",
            &count.to_string(),
            &size.to_string(),
        ]);
        for i in 0..count {
            let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(m.len(), size);
            assert_eq!(&m[..8], &i.to_le_bytes());
            assert!(
                m[8..].iter().all(|&b| b == i as u8),
                "message {i} of {size} B damaged"
            );
        }
        peer.expect("sent");
        peer.wait_success();
    }
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn kill_9_of_a_process_holding_buffers_returns_them_all() {
    let bus = small_bus("kill");
    let before = bus.stats().pool;
    let mut peer = Peer::spawn(&["hold", bus.name(), "5", "h"]);
    let mut tx = bus.sender("h").unwrap();
    for i in 0..3u8 {
        tx.send_copy(&[i; 40]).unwrap();
        peer.expect(&format!("holding {}", i + 1));
    }
    assert_eq!(allocated(&bus), 8);
    peer.kill9();
    let report = bus.reclaim().unwrap();
    assert_eq!(report.dead_processes, 1);
    assert_eq!(report.reclaimed_slots, 8);
    assert_eq!(report.endpoints_closed, 1);
    let after = bus.stats();
    assert_eq!(allocated(&bus), 0, "pool capacity back to 100 %");
    assert_eq!(after.pool.utilization, 0.0);
    assert_eq!(after.pool.total_slots, before.total_slots);
    assert_eq!(after.processes, 1);
    // The sender learns the endpoint is gone; the name can be taken again; the bus works.
    assert!(matches!(tx.send_copy(b"x"), Err(BusError::EndpointGone(_))));
    let mut rx = bus.endpoint("h", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("h").unwrap();
    tx.send_copy(b"alive").unwrap();
    assert_eq!(&rx.recv().unwrap()[..], b"alive");
}

#[test]
fn kill_9_of_a_producer_mid_send_wedges_nobody() {
    let bus = small_bus("flood");
    let mut rx = bus.endpoint("f", EndpointConfig::default()).unwrap();
    let mut peer = Peer::spawn(&["flood", bus.name(), "f"]);
    let mut last = None;
    for _ in 0..20_000 {
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let v = u64::from_le_bytes(m[..8].try_into().unwrap());
        if let Some(prev) = last {
            assert_eq!(v, prev + 1);
        }
        last = Some(v);
    }
    peer.kill9();
    // Whatever the producer published before dying is still delivered, in order.
    while let Some(m) = rx.try_recv().unwrap() {
        let v = u64::from_le_bytes(m[..8].try_into().unwrap());
        assert_eq!(Some(v), last.map(|p| p + 1));
        last = Some(v);
    }
    let report = bus.reclaim().unwrap();
    assert_eq!(report.dead_processes, 1);
    assert_eq!(allocated(&bus), 0, "a half-made send leaks nothing");
    let mut tx = bus.sender("f").unwrap();
    tx.send_copy(b"next").unwrap();
    assert_eq!(
        &rx.recv_timeout(Duration::from_secs(5)).unwrap()[..],
        b"next"
    );
}

#[test]
fn a_blocked_sender_is_released_when_its_consumer_dies() {
    let bus = small_bus("sink");
    let mut peer = Peer::spawn(&["sink", bus.name(), "s"]);
    let mut tx = bus.sender("s").unwrap();
    let cap = BusConfig::small().lane_capacity;
    for _ in 0..cap {
        tx.send_copy(b"fill").unwrap();
    }
    let blocked = std::thread::spawn(move || tx.send_copy(b"one too many"));
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !blocked.is_finished(),
        "the send should be waiting for room"
    );
    peer.kill9();
    let result = blocked.join().unwrap();
    assert!(
        matches!(result, Err(BusError::EndpointGone(_))),
        "{result:?}"
    );
    bus.reclaim().unwrap();
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn the_segment_lives_until_its_last_user_leaves() {
    let name = unique("life");
    let bus = Bus::create(&name, &BusConfig::small()).unwrap();
    let mut peer = Peer::spawn(&["open", &name]);
    drop(bus);
    assert!(Segment::exists(&name), "still in use by the peer");
    let bus = Bus::open(&name).unwrap();
    drop(bus);
    writeln!(peer.stdin.as_mut().unwrap()).unwrap();
    peer.expect("left");
    peer.wait_success();
    assert!(!Segment::exists(&name), "the last user removed it");
    assert!(matches!(Bus::open(&name), Err(BusError::NotFound(_))));
}

#[test]
fn a_bus_whose_users_all_died_is_replaced_by_create() {
    let name = unique("stale");
    let mut peer = Peer::spawn(&["create", &name]);
    peer.kill9();
    assert!(Segment::exists(&name));
    let bus = Bus::create(&name, &BusConfig::small()).expect("stale bus replaced");
    assert_eq!(bus.stats().processes, 1);
    drop(bus);
    assert!(!Segment::exists(&name));
}

#[test]
fn fan_out_writes_once_and_every_subscriber_reads_the_same_bytes() {
    let bus = small_bus("fanout");
    let mut subs: Vec<_> = (0..3)
        .map(|_| bus.subscribe("news", EndpointConfig::default()).unwrap())
        .collect();
    let mut publisher = bus.publisher("news").unwrap();
    assert_eq!(publisher.subscriber_count().unwrap(), 3);
    let mut offsets = Vec::new();
    for i in 0..20u64 {
        let mut loan = publisher.loan(64).unwrap();
        loan[..8].copy_from_slice(&i.to_le_bytes());
        offsets.push(loan.offset());
        assert_eq!(publisher.publish(loan).unwrap(), 3);
    }
    assert_eq!(
        allocated(&bus),
        20,
        "one slot per message, not one per reader"
    );
    let mut held = Vec::new();
    for sub in subs.iter_mut() {
        for (i, &at) in offsets.iter().enumerate() {
            let m = sub.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(&m[..8], &(i as u64).to_le_bytes());
            assert_eq!(m.offset(), at, "every subscriber reads the published slot");
            held.push(m);
        }
    }
    held.truncate(40); // the first two subscribers' views
    assert_eq!(
        allocated(&bus),
        20,
        "still referenced by the remaining views"
    );
    drop(held);
    assert_eq!(
        allocated(&bus),
        0,
        "freed exactly when the last reader let go"
    );
    // A subscriber that leaves stops receiving; a queue name is not a topic.
    drop(subs.pop());
    assert_eq!(publisher.publish_copy(b"two left").unwrap(), 2);
    assert!(matches!(
        bus.sender("news"),
        Err(BusError::NoSuchEndpoint(_))
    ));
    drop(subs);
    assert_eq!(publisher.publish_copy(b"nobody").unwrap(), 0);
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn batched_messages_arrive_one_by_one_in_order() {
    let bus = small_bus("batch");
    let mut rx = bus.endpoint("b", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("b").unwrap();
    let n = 20_000u64;
    let big = vec![0xabu8; 70_000]; // larger than a batch: sent on its own, in order
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send_batched(&i.to_le_bytes()).unwrap();
            if i == n / 2 {
                tx.send_batched(&big).unwrap();
            }
        }
        tx.flush().unwrap();
        tx
    });
    let mut batched = 0;
    for i in 0..n {
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(&m[..], &i.to_le_bytes());
        batched += usize::from(m.is_batched());
        if i == n / 2 {
            let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(m.len(), 70_000);
            assert!(!m.is_batched());
        }
    }
    assert_eq!(batched, n as usize);
    let tx = producer.join().unwrap();
    drop(tx);
    assert!(rx.try_recv().unwrap().is_none());
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn a_quiet_senders_batch_is_sent_by_the_timer() {
    let bus = small_bus("timer");
    let mut rx = bus.endpoint("t", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("t").unwrap();
    tx.set_batch_delay(Duration::from_millis(2));
    // Two rounds: the flusher thread parks when nothing is pending and must be woken.
    for round in 0..2u64 {
        for i in 0..3u64 {
            tx.send_batched(&(round * 10 + i).to_le_bytes()).unwrap();
        }
        // No flush, and the sender stays alive and quiet.
        for i in 0..3u64 {
            let m = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(&m[..], &(round * 10 + i).to_le_bytes());
            assert!(m.is_batched());
        }
        assert!(rx.try_recv().unwrap().is_none());
    }
    drop(tx);
    assert_eq!(allocated(&bus), 0);
}

#[test]
fn without_a_delay_a_batch_waits_for_flush() {
    let bus = small_bus("notimer");
    let mut rx = bus.endpoint("t", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("t").unwrap();
    tx.set_batch_delay(Duration::MAX);
    tx.send_batched(b"held").unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    tx.flush().unwrap();
    assert_eq!(&rx.recv().unwrap()[..], b"held");
}

#[test]
fn a_batch_that_cannot_be_sent_stays_pending() {
    let bus = small_bus("keepbatch");
    let mut rx = bus.endpoint("e", policy(Backpressure::Error)).unwrap();
    let mut tx = bus.sender("e").unwrap();
    tx.set_batch_delay(Duration::from_millis(1));
    let cap = BusConfig::small().lane_capacity as u64;
    for i in 0..cap {
        tx.send_copy(&i.to_le_bytes()).unwrap();
    }
    tx.send_batched(b"first").unwrap();
    assert!(matches!(tx.flush(), Err(BusError::Full)));
    tx.send_batched(b"second").unwrap();
    // The timer retries too, and fails the same way while the lane is full.
    std::thread::sleep(Duration::from_millis(20));
    for i in 0..cap {
        assert_eq!(&rx.recv().unwrap()[..], &i.to_le_bytes());
    }
    // Room again: the timer (or this flush) sends the batch, nothing lost.
    tx.flush().unwrap();
    assert_eq!(&rx.recv().unwrap()[..], b"first");
    assert_eq!(&rx.recv().unwrap()[..], b"second");
    assert!(rx.try_recv().unwrap().is_none());
}

#[test]
fn a_child_that_goes_quiet_still_delivers_its_batch() {
    let bus = small_bus("clinger");
    let mut rx = bus.endpoint("in", EndpointConfig::default()).unwrap();
    let mut peer = Peer::spawn(&["linger", bus.name(), "in", "5"]);
    peer.expect("sent 5");
    for i in 0..5u64 {
        let m = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(&m[..], &i.to_le_bytes());
    }
    assert!(peer.child.try_wait().unwrap().is_none(), "still attached");
    writeln!(peer.stdin.as_mut().unwrap()).unwrap();
    peer.wait_success();
    assert!(rx.try_recv().unwrap().is_none());
}

#[test]
fn a_child_sends_batches_to_this_process() {
    let bus = small_bus("cbatch");
    let mut rx = bus.endpoint("in", EndpointConfig::default()).unwrap();
    let count = 50_000u64;
    let mut peer = Peer::spawn(&["batch", bus.name(), "in", &count.to_string()]);
    for i in 0..count {
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(m.len(), 8 + (i % 50) as usize);
        assert_eq!(&m[..8], &i.to_le_bytes());
        assert!(m[8..].iter().all(|&b| b == i as u8));
    }
    peer.expect("sent");
    peer.wait_success();
    while rx.try_recv().unwrap().is_some() {}
    assert_eq!(allocated(&bus), 0);
}

fn large_segments(bus: &Bus) -> usize {
    let prefix = format!("shoal-{}.L", bus.name());
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .count()
}

#[test]
fn messages_larger_than_the_largest_class_use_a_dedicated_segment() {
    let bus = small_bus("large");
    let mut rx = bus.endpoint("l", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("l").unwrap();
    let size = 3 << 20;
    let mut loan = tx.loan(size).unwrap();
    for (i, b) in loan.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let id = loan.offset();
    tx.send(loan).unwrap();
    assert_eq!(large_segments(&bus), 1);
    let m = rx.recv().unwrap();
    assert_eq!(m.len(), size);
    assert_eq!(m.offset(), id);
    assert!(m.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    drop(m);
    assert_eq!(
        large_segments(&bus),
        0,
        "the last reader removed the segment"
    );
    // Fan-out of a large message: one segment, two readers.
    let mut a = bus.subscribe("big", EndpointConfig::default()).unwrap();
    let mut b = bus.subscribe("big", EndpointConfig::default()).unwrap();
    let mut publisher = bus.publisher("big").unwrap();
    let mut loan = publisher.loan(2 << 20).unwrap();
    loan.fill(5);
    assert_eq!(publisher.publish(loan).unwrap(), 2);
    let (ma, mb) = (a.recv().unwrap(), b.recv().unwrap());
    assert_eq!(ma.offset(), mb.offset());
    assert!(ma.iter().all(|&x| x == 5) && mb.len() == 2 << 20);
    assert_eq!(large_segments(&bus), 1);
    drop((ma, mb));
    assert_eq!(large_segments(&bus), 0);
}

#[test]
fn a_child_sends_large_messages_and_a_killed_holder_leaves_no_segment() {
    let bus = small_bus("clarge");
    let mut rx = bus.endpoint("in", EndpointConfig::default()).unwrap();
    let size = 5 << 20;
    let mut peer = Peer::spawn(&["send", bus.name(), "in", "3", &size.to_string()]);
    for i in 0..3u64 {
        let m = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(m.len(), size);
        assert_eq!(&m[..8], &i.to_le_bytes());
        assert!(m[8..].iter().all(|&b| b == i as u8));
    }
    peer.wait_success();
    assert_eq!(large_segments(&bus), 0);
    let mut holder = Peer::spawn(&["hold", bus.name(), "2", "-", &(4 << 20).to_string()]);
    assert_eq!(large_segments(&bus), 2);
    holder.kill9();
    let report = bus.reclaim().unwrap();
    assert_eq!(report.large_unlinked, 2);
    assert_eq!(large_segments(&bus), 0);
}

#[test]
fn compressed_messages_arrive_as_the_original_bytes() {
    let bus = small_bus("lz4");
    let mut rx = bus.endpoint("z", EndpointConfig::default()).unwrap();
    let mut tx = bus.sender("z").unwrap();
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
        .iter()
        .copied()
        .cycle()
        .take(200_000)
        .collect();
    tx.send_compressed(&text).unwrap();
    tx.send_compressed(b"").unwrap();
    let m = rx.recv().unwrap();
    assert_eq!(&m[..], &text[..]);
    assert_eq!(rx.recv().unwrap().len(), 0);
    drop(m);
    assert_eq!(allocated(&bus), 0);
    // A buffer flagged as compressed that is not LZ4 is refused and counted.
    let mut loan = tx.loan(64).unwrap();
    loan[..4].copy_from_slice(&1000u32.to_le_bytes());
    loan[4..].fill(0xff);
    tx.send_with_raw_flags(loan, 4).unwrap();
    let r = rx.recv();
    assert!(matches!(r, Err(BusError::Corrupt(_))), "{r:?}");
    assert_eq!(bus.stats().corrupt, 1);
    assert_eq!(
        allocated(&bus),
        0,
        "the refused buffer went back to the pool"
    );
}

#[test]
fn fan_out_reaches_subscribers_in_other_processes() {
    let bus = small_bus("xfan");
    let count = 500u64;
    let mut peers: Vec<Peer> = (0..2)
        .map(|_| Peer::spawn(&["subscribe", bus.name(), "events", &count.to_string()]))
        .collect();
    let mut local = bus.subscribe("events", EndpointConfig::default()).unwrap();
    let mut publisher = bus.publisher("events").unwrap();
    let mut sum = 0u64;
    for i in 0..count {
        let mut loan = publisher.loan(32).unwrap();
        loan[..8].copy_from_slice(&i.to_le_bytes());
        sum = sum.wrapping_add(loan.offset());
        assert_eq!(publisher.publish(loan).unwrap(), 3);
        let m = local.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(&m[..8], &i.to_le_bytes());
    }
    for p in &mut peers {
        // Every subscriber read the very slots that were published.
        assert_eq!(p.expect("got"), format!("got {count} {sum}"));
        p.wait_success();
    }
    assert_eq!(allocated(&bus), 0);
}
