//! Fuzz target `bus_descriptor`: a hostile peer writing arbitrary descriptors into a
//! lane of a real shared-memory bus, interleaved with honest traffic. The receiver must
//! refuse (and count) every descriptor that does not name a live buffer it may read —
//! wrong offset, alignment, length, generation, flags, batch records, LZ4 contents,
//! missing large segments — and never panic or read outside the mapping.
//!
//! Each input is a sequence of 17-byte operations: an opcode and two words.
//! The bus lives for the whole fuzzing process (one per process, named after the pid;
//! `make fuzz` removes it afterwards).
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use shoal_core::native::bus::{Bus, BusConfig, EndpointConfig, Message, Receiver, Sender};

struct Rig {
    bus: Bus,
    rx: Receiver,
    tx: Sender,
    held: Vec<Message>,
    /// Offsets of buffers recently sent, to aim raw descriptors near real ones.
    recent: Vec<u64>,
}

thread_local! {
    static RIG: RefCell<Option<Rig>> = const { RefCell::new(None) };
}

fn rig() -> Rig {
    let name = format!("fuzz-{}", std::process::id());
    let bus = Bus::create(&name, &BusConfig::small()).expect("create fuzz bus");
    let rx = bus
        .endpoint("victim", EndpointConfig::default())
        .expect("endpoint");
    let tx = bus.sender("victim").expect("sender");
    Rig {
        bus,
        rx,
        tx,
        held: Vec::new(),
        recent: Vec::new(),
    }
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap())
}

fuzz_target!(|data: &[u8]| {
    RIG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rig = slot.get_or_insert_with(rig);
        for op in data.chunks_exact(17) {
            let (w0, w1) = (word(&op[1..9]), word(&op[9..17]));
            match op[0] % 6 {
                0 => {
                    // Honest message (sometimes batched or compressed).
                    let len = (w0 % 3000) as usize;
                    let payload = vec![op[1]; len];
                    let _ = match w1 % 3 {
                        0 => rig.tx.send_copy(&payload),
                        1 => rig.tx.send_batched(&payload).and_then(|()| rig.tx.flush()),
                        _ => rig.tx.send_compressed(&payload),
                    };
                }
                1 => {
                    // Raw descriptor aimed near a real buffer.
                    let base = rig
                        .recent
                        .get((w1 as usize) % rig.recent.len().max(1))
                        .copied();
                    let offset = base.unwrap_or(0).wrapping_add(w0 & 0xffff) ^ (w0 >> 48);
                    let _ = rig.tx.push_raw_descriptor([offset, w1]);
                }
                2 => {
                    // Fully arbitrary words.
                    let _ = rig.tx.push_raw_descriptor([w0, w1]);
                }
                3 | 4 => {
                    // Receive; keep some views alive for a while.
                    if let Ok(Some(m)) = rig.rx.try_recv() {
                        let _sum: u64 = m.iter().map(|&b| b as u64).sum();
                        rig.recent.push(m.offset());
                        if rig.recent.len() > 64 {
                            rig.recent.remove(0);
                        }
                        if w0 % 2 == 0 && rig.held.len() < 32 {
                            rig.held.push(m);
                        }
                    }
                }
                _ => rig.held.clear(),
            }
        }
        // Drain so the lane never stays full across inputs.
        for _ in 0..10_000 {
            match rig.rx.try_recv() {
                Ok(None) => break,
                _ => continue,
            }
        }
        rig.held.clear();
        let _ = rig.bus.stats();
    });
});
