//! One conformance suite for every local transport behind the router: the in-memory
//! transport and the shared-memory bus must deliver the same payloads, in the same
//! order, to the same owners.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use shoal_core::native::bus::{Bus, BusConfig, EndpointConfig, Receiver};
use shoal_core::native::router::BusTransport;
use shoal_core::router::{Deliver, Destination, MemoryTransport, Router};
use shoal_core::Ring;

/// A transport plus a way to read what each owner received.
trait Backend {
    type T: Deliver;
    fn transport(&mut self) -> &mut Self::T;
    fn received(&mut self, owner: &str) -> Vec<Vec<u8>>;
    fn into_router(self, local: &[&str]) -> (Router<Self::T, MemoryTransport>, Self::Reader);
    type Reader: Reader<Self::T>;
}

/// Reads what an owner received once the transport is inside a router.
trait Reader<T> {
    fn received(&mut self, transport: &mut T, owner: &str, expected: usize) -> Vec<Vec<u8>>;
}

const OWNERS: [&str; 3] = ["query", "media", "insight"];

struct Memory(MemoryTransport);

/// The memory transport is its own inbox.
struct MemoryReader;

impl Reader<MemoryTransport> for MemoryReader {
    fn received(&mut self, t: &mut MemoryTransport, owner: &str, _expected: usize) -> Vec<Vec<u8>> {
        t.take(owner).into_iter().map(|(_, p)| p).collect()
    }
}

impl Backend for Memory {
    type T = MemoryTransport;
    type Reader = MemoryReader;
    fn transport(&mut self) -> &mut MemoryTransport {
        &mut self.0
    }
    fn received(&mut self, owner: &str) -> Vec<Vec<u8>> {
        MemoryReader.received(&mut self.0, owner, 0)
    }
    fn into_router(
        self,
        local: &[&str],
    ) -> (Router<MemoryTransport, MemoryTransport>, MemoryReader) {
        let mut router = Router::new(self.0, MemoryTransport::new());
        for id in local {
            router.add_local(id);
        }
        (router, MemoryReader)
    }
}

struct Shm {
    transport: BusTransport,
    inboxes: Inboxes,
}

/// Receivers per owner (the bus handle keeps the segment attached).
struct Inboxes(HashMap<String, Receiver>, #[allow(dead_code)] Bus);

impl Reader<BusTransport> for Inboxes {
    fn received(&mut self, _t: &mut BusTransport, owner: &str, expected: usize) -> Vec<Vec<u8>> {
        let rx = self.0.get_mut(owner).expect("inbox");
        let mut out = Vec::new();
        while let Some(m) = rx.try_recv().unwrap() {
            out.push(m.to_vec());
        }
        while out.len() < expected {
            out.push(rx.recv_timeout(Duration::from_secs(5)).unwrap().to_vec());
        }
        out
    }
}

impl Shm {
    fn new() -> Shm {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "conf{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let bus = Bus::create(&name, &BusConfig::default()).unwrap();
        let inboxes = OWNERS
            .iter()
            .map(|o| {
                (
                    o.to_string(),
                    bus.endpoint(&format!("agent/{o}"), EndpointConfig::default())
                        .unwrap(),
                )
            })
            .collect();
        Shm {
            transport: BusTransport::with_prefix(bus.clone(), "agent/"),
            inboxes: Inboxes(inboxes, bus),
        }
    }
}

impl Backend for Shm {
    type T = BusTransport;
    type Reader = Inboxes;
    fn transport(&mut self) -> &mut BusTransport {
        &mut self.transport
    }
    fn received(&mut self, owner: &str) -> Vec<Vec<u8>> {
        self.inboxes.received(&mut self.transport, owner, 0)
    }
    fn into_router(self, local: &[&str]) -> (Router<BusTransport, MemoryTransport>, Inboxes) {
        let mut router = Router::new(self.transport, MemoryTransport::new());
        for id in local {
            router.add_local(id);
        }
        (router, self.inboxes)
    }
}

fn delivers_in_order_per_owner(mut b: impl Backend) {
    for i in 0..200u32 {
        let owner = OWNERS[i as usize % 3];
        b.transport()
            .deliver(owner, b"k", &i.to_le_bytes())
            .unwrap();
    }
    for (k, owner) in OWNERS.iter().enumerate() {
        let got: Vec<u32> = b
            .received(owner)
            .iter()
            .map(|p| u32::from_le_bytes(p[..4].try_into().unwrap()))
            .collect();
        let want: Vec<u32> = (0..200).filter(|i| i % 3 == k as u32).collect();
        assert_eq!(got, want, "owner {owner}");
    }
}

fn delivers_empty_and_large_payloads_intact(mut b: impl Backend) {
    let large: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    b.transport().deliver("media", b"k", b"").unwrap();
    b.transport().deliver("media", b"k", &large).unwrap();
    let got = b.received("media");
    assert_eq!(got.len(), 2);
    assert!(got[0].is_empty());
    assert_eq!(got[1], large);
}

fn router_sends_every_key_to_its_owner<B: Backend>(b: B) {
    let mut ring = Ring::new();
    for o in OWNERS {
        ring.add(o).unwrap();
    }
    ring.add("elsewhere").unwrap();
    let (mut router, mut reader) = b.into_router(&OWNERS);
    let mut expected: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
    let mut remote = 0;
    for i in 0..300u32 {
        let key = format!("topic-{i}");
        let owner = ring.locate(key.as_bytes()).unwrap();
        match router.route(&ring, key.as_bytes(), key.as_bytes()).unwrap() {
            Destination::Local(o) => {
                assert_eq!(o, owner);
                expected
                    .entry(OWNERS.iter().find(|x| **x == o).unwrap())
                    .or_default()
                    .push(key.into_bytes());
            }
            Destination::Remote(o) => {
                assert_eq!(o, "elsewhere");
                remote += 1;
            }
        }
    }
    assert_eq!(router.remote_mut().take("elsewhere").len(), remote);
    for o in OWNERS {
        let want = expected.remove(o).unwrap_or_default();
        let got = reader.received(router.local_mut(), o, want.len());
        assert_eq!(got, want, "owner {o}");
    }
    let stats = router.stats();
    assert_eq!(stats.local + stats.remote, 300);
    assert_eq!(stats.failed, 0);
}

macro_rules! suite {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;
            #[test]
            fn delivers_in_order_per_owner() {
                super::delivers_in_order_per_owner($make);
            }
            #[test]
            fn delivers_empty_and_large_payloads_intact() {
                super::delivers_empty_and_large_payloads_intact($make);
            }
            #[test]
            fn router_sends_every_key_to_its_owner() {
                super::router_sends_every_key_to_its_owner($make);
            }
        }
    };
}

suite!(memory, Memory(MemoryTransport::new()));
suite!(shared_memory, Shm::new());

#[test]
fn a_refused_delivery_is_counted_and_reported() {
    let mut ring = Ring::new();
    ring.add("only").unwrap();
    let mut local = MemoryTransport::new();
    local.refuse(Some("only"));
    let mut router = Router::new(local, MemoryTransport::new());
    router.add_local("only");
    let err = router.route(&ring, b"k", b"p").unwrap_err();
    assert!(err.to_string().contains("only"), "{err}");
    assert_eq!(router.stats().failed, 1);
    let empty = Ring::new();
    assert!(router.route(&empty, b"k", b"p").is_err());
}
