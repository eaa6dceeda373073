//! Arbitrary bytes as membership packets: sealed with a matching plain codec so they
//! reach the packet decoder, and raw so they hit the envelope checks. A packet that
//! is rejected must leave the member's view untouched; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_core::membership::{Config, Member, MemberTable, Membership, Meta};
use shoal_core::time::Instant;
use shoal_core::wire::{Codec, CodecConfig};

fuzz_target!(|data: &[u8]| {
    let addr = "10.0.0.1:7946".parse().unwrap();
    let me = Member::new("fuzzed", addr, Meta::default());
    let codec = Codec::new(CodecConfig::new("fuzz"), 1).unwrap();
    let mut m = Membership::new(
        Config::default(),
        me,
        codec,
        3,
        MemberTable::new(),
        Instant::ZERO,
    )
    .unwrap();
    let from = "10.0.0.2:7946".parse().unwrap();
    let mut sender = Codec::new(CodecConfig::new("fuzz"), 2).unwrap();
    let mut sealed = Vec::new();
    for (i, chunk) in [data, &data[data.len() / 2..]].iter().enumerate() {
        let before = m.table().digest();
        let now = Instant::from_millis(10 * i as u64);
        if sender.seal(chunk, &mut sealed).is_ok() {
            if m.handle_datagram(now, from, &sealed).is_err() {
                assert_eq!(
                    m.table().digest(),
                    before,
                    "a rejected packet changed the view"
                );
            }
        }
        let before = m.table().digest();
        if m.handle_datagram(now, from, chunk).is_err() {
            assert_eq!(m.table().digest(), before);
        }
        m.handle_timeout(m.poll_timeout());
        while m.poll_transmit().is_some() {}
        while m.poll_event().is_some() {}
    }
});
