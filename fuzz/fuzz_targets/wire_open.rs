//! Fuzz target `wire_open`: arbitrary bytes into `Codec::open` in every mode (raw, and
//! with a valid header prefix so the key, tag and replay checks are reached), sealed
//! datagrams mutated by the input, and `Reader` getters driven by the input.
//!
//! Invariants checked besides "never panics":
//! * every rejection is counted exactly once, under its own reason;
//! * in the keyed modes, anything accepted is byte-for-byte a datagram the key holder
//!   sealed. (Sealing is deterministic, so libFuzzer's comparison tracing can learn a
//!   genuine datagram from part 3 and replay it to a fresh receiver, which rightly
//!   accepts it; what must never happen is accepting bytes the key did not produce.)
//! * a sealed datagram opens to its payload, and a changed one (part 3) is subject to
//!   the invariant above;
//! * a varint that decodes re-encodes to exactly the bytes it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_core::wire::{varint_len, Codec, CodecConfig, Key, Keyring, Mode, Reader, Writer};

const MODES: [Mode; 3] = [Mode::Plain, Mode::Authenticated, Mode::Encrypted];

fn codec(mode: Mode, session: u64) -> Codec {
    let keyring = (mode != Mode::Plain).then(|| Keyring::new(Key::from_bytes([0x42; 32])));
    let config = CodecConfig {
        keyring,
        encrypt: mode == Mode::Encrypted,
        ..CodecConfig::new("fuzz")
    };
    Codec::new(config, session).expect("valid config")
}

/// Opens `datagram` with a fresh receiver and checks the accounting invariants; in
/// keyed modes an accepted datagram must be exactly what the key holder seals.
fn open_checked(mode: Mode, datagram: &[u8]) {
    let mut rx = codec(mode, 2);
    let mut out = Vec::new();
    match rx.open(datagram, &mut out) {
        Ok(opened) => {
            assert_eq!(
                opened.payload.len() + opened.mode.overhead(),
                datagram.len()
            );
            assert_eq!(rx.rejects().total(), 0);
            if opened.mode != Mode::Plain {
                assert_eq!(opened.sequence, 0, "forged sequence accepted");
                let mut genuine = Vec::new();
                codec(opened.mode, opened.session)
                    .seal(opened.payload, &mut genuine)
                    .expect("accepted payload fits");
                assert_eq!(
                    genuine, datagram,
                    "accepted a datagram the key did not seal"
                );
            }
        }
        Err(reason) => {
            assert!(out.is_empty());
            assert_eq!(rx.rejects().total(), 1);
            assert_eq!(rx.rejects().get(&reason), 1);
            assert!(!reason.to_string().is_empty());
        }
    }
}

fn read_ops(ops: &[u8], input: &[u8]) {
    let mut r = Reader::new(input);
    for &op in ops {
        let before = r.remaining();
        let ok = match op % 8 {
            0 => r.u8().is_ok(),
            1 => r.u16().is_ok(),
            2 => r.u32().is_ok(),
            3 => r.u64().is_ok(),
            4 => {
                let start = input.len() - r.remaining();
                match r.varint() {
                    Ok(v) => {
                        let used = before - r.remaining();
                        let mut again = Vec::new();
                        Writer::new(&mut again).varint(v);
                        assert_eq!(&again[..], &input[start..start + used]);
                        assert_eq!(varint_len(v), used);
                        true
                    }
                    Err(_) => false,
                }
            }
            5 => r.bytes().is_ok(),
            6 => match r.str() {
                Ok(s) => std::str::from_utf8(s.as_bytes()).is_ok(),
                Err(_) => false,
            },
            _ => r.raw(usize::from(op >> 3)).is_ok(),
        };
        assert!(r.remaining() <= before);
        if !ok {
            break;
        }
    }
    let _ = r.finish();
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };

    // 1. Raw bytes.
    for mode in MODES {
        open_checked(mode, rest);
    }

    // 2. A valid 12-byte prefix (magic, version, flags, label hash, key fingerprint)
    //    so the input reaches the length, key, tag and replay checks.
    if rest.len() >= 12 {
        for mode in MODES {
            let mut template = Vec::new();
            codec(mode, 1)
                .seal(&[], &mut template)
                .expect("empty payload fits");
            let mut forged = rest.to_vec();
            forged[..12].copy_from_slice(&template[..12]);
            open_checked(mode, &forged);
        }
    }

    // 3. Seal part of the input, then mutate the datagram with the rest.
    let mode = MODES[usize::from(selector % 3)];
    let mut tx = codec(mode, 1);
    let split = rest
        .len()
        .min(tx.max_payload())
        .min(usize::from(selector) * 6);
    let (payload, edits) = rest.split_at(split);
    let mut datagram = Vec::new();
    tx.seal(payload, &mut datagram)
        .expect("payload within budget");
    let mut rx = codec(mode, 2);
    let mut out = Vec::new();
    assert_eq!(
        rx.open(&datagram, &mut out).expect("own datagram").payload,
        payload
    );
    let mut mutated = datagram.clone();
    for pair in edits.chunks_exact(2) {
        let at = usize::from(pair[0]) * datagram.len() / 256;
        mutated[at] ^= pair[1];
    }
    if mutated != datagram {
        open_checked(mode, &mutated);
    }

    // 4. Reader getters driven by the input.
    let (ops, input) = rest.split_at(rest.len().min(usize::from(selector & 0x1f)));
    read_ops(ops, input);
});
