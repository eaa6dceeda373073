//! One counter per rejection reason, so operators can see *why* datagrams are dropped
//! (a misconfigured label, a half-finished key rotation, an attack).
//!
//! This module only counts. [`Codec::open`](super::Codec::open) records every
//! rejection here; nothing else writes to it.

use super::error::Reject;

/// Number of datagrams [`Codec::open`](super::Codec::open) rejected, per reason.
///
/// Counters saturate at `u64::MAX` instead of wrapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectCounters {
    /// [`Reject::TooLong`].
    pub too_long: u64,
    /// [`Reject::TooShort`].
    pub too_short: u64,
    /// [`Reject::BadMagic`].
    pub bad_magic: u64,
    /// [`Reject::UnsupportedVersion`].
    pub unsupported_version: u64,
    /// [`Reject::BadFlags`].
    pub bad_flags: u64,
    /// [`Reject::LabelMismatch`].
    pub label_mismatch: u64,
    /// [`Reject::MissingAuth`].
    pub missing_auth: u64,
    /// [`Reject::UnexpectedAuth`].
    pub unexpected_auth: u64,
    /// [`Reject::UnknownKey`].
    pub unknown_key: u64,
    /// [`Reject::BadTag`].
    pub bad_tag: u64,
    /// [`Reject::Replayed`].
    pub replayed: u64,
    /// [`Reject::TooOld`].
    pub too_old: u64,
}

impl RejectCounters {
    /// All rejections, whatever the reason.
    pub fn total(&self) -> u64 {
        [
            self.too_long,
            self.too_short,
            self.bad_magic,
            self.unsupported_version,
            self.bad_flags,
            self.label_mismatch,
            self.missing_auth,
            self.unexpected_auth,
            self.unknown_key,
            self.bad_tag,
            self.replayed,
            self.too_old,
        ]
        .iter()
        .fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// The counter of `reason`'s kind (fields such as lengths are ignored).
    pub fn get(&self, reason: &Reject) -> u64 {
        let mut copy = *self;
        *copy.slot(reason)
    }

    /// Counts one rejection.
    pub(crate) fn record(&mut self, reason: &Reject) {
        let slot = self.slot(reason);
        *slot = slot.saturating_add(1);
    }

    fn slot(&mut self, reason: &Reject) -> &mut u64 {
        match reason {
            Reject::TooLong { .. } => &mut self.too_long,
            Reject::TooShort { .. } => &mut self.too_short,
            Reject::BadMagic => &mut self.bad_magic,
            Reject::UnsupportedVersion { .. } => &mut self.unsupported_version,
            Reject::BadFlags { .. } => &mut self.bad_flags,
            Reject::LabelMismatch => &mut self.label_mismatch,
            Reject::MissingAuth => &mut self.missing_auth,
            Reject::UnexpectedAuth => &mut self.unexpected_auth,
            Reject::UnknownKey { .. } => &mut self.unknown_key,
            Reject::BadTag => &mut self.bad_tag,
            Reject::Replayed => &mut self.replayed,
            Reject::TooOld => &mut self.too_old,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Reject; 12] = [
        Reject::TooLong { len: 0 },
        Reject::TooShort { len: 0 },
        Reject::BadMagic,
        Reject::UnsupportedVersion { version: 0 },
        Reject::BadFlags { flags: 0 },
        Reject::LabelMismatch,
        Reject::MissingAuth,
        Reject::UnexpectedAuth,
        Reject::UnknownKey { fingerprint: 0 },
        Reject::BadTag,
        Reject::Replayed,
        Reject::TooOld,
    ];

    #[test]
    fn every_reason_has_its_own_counter() {
        let mut c = RejectCounters::default();
        for (i, reason) in ALL.iter().enumerate() {
            for _ in 0..=i {
                c.record(reason);
            }
        }
        for (i, reason) in ALL.iter().enumerate() {
            assert_eq!(c.get(reason), i as u64 + 1, "{reason:?}");
        }
        assert_eq!(c.total(), (1..=12).sum::<u64>());
    }

    #[test]
    fn counters_saturate() {
        let mut c = RejectCounters {
            bad_tag: u64::MAX,
            replayed: 1,
            ..RejectCounters::default()
        };
        c.record(&Reject::BadTag);
        assert_eq!(c.bad_tag, u64::MAX);
        assert_eq!(c.total(), u64::MAX);
    }
}
