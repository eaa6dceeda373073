//! The fixed 28-byte datagram header: layout, modes, and parsing of the fields that can
//! be checked without a key.
//!
//! This module owns the byte layout only. It does not decide whether a datagram is
//! acceptable to a given receiver (label, keys, tags, replay): that is the
//! [`Codec`](super::Codec)'s job.
//!
//! # Layout (all integers little-endian)
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 2 | magic `0x53 0x48` (`"SH"`) |
//! | 2  | 1 | format version, `1` |
//! | 3  | 1 | flags: bit 0 authenticated, bit 1 encrypted (requires bit 0); others 0 |
//! | 4  | 4 | cluster label hash: low 32 bits of XXH3-64(label UTF-8 bytes, seed 0) |
//! | 8  | 4 | key fingerprint ([`Key::fingerprint`](super::Key::fingerprint)), 0 in plain mode |
//! | 12 | 8 | sender session |
//! | 20 | 8 | sequence number |
//! | 28 | … | payload (ciphertext in encrypted mode) |
//! | end − 16 | 16 | tag (authenticated and encrypted modes only) |

use xxhash_rust::xxh3::xxh3_64;

use super::buf::{Reader, Writer};
use super::error::Reject;

/// The two bytes every shoal datagram starts with.
pub(crate) const MAGIC: [u8; 2] = *b"SH";
/// The header format this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Size of the header in bytes.
pub const HEADER_LEN: usize = 28;
/// Size of the authentication tag in bytes (authenticated and encrypted modes).
pub const TAG_LEN: usize = 16;

const FLAG_AUTHENTICATED: u8 = 0x01;
const FLAG_ENCRYPTED: u8 = 0x02;

/// How a datagram is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// No keyring: labelled and replay-filtered, but anyone can forge or read it.
    Plain,
    /// HMAC-SHA256 (truncated to 16 bytes) over label, header and payload; the payload
    /// travels in the clear.
    Authenticated,
    /// XChaCha20-Poly1305: payload encrypted, label and header authenticated.
    Encrypted,
}

impl Mode {
    /// The flags byte of this mode.
    pub(crate) fn flags(self) -> u8 {
        match self {
            Mode::Plain => 0,
            Mode::Authenticated => FLAG_AUTHENTICATED,
            Mode::Encrypted => FLAG_AUTHENTICATED | FLAG_ENCRYPTED,
        }
    }

    /// The mode a flags byte denotes, if it is a valid one.
    pub(crate) fn from_flags(flags: u8) -> Option<Mode> {
        match flags {
            0 => Some(Mode::Plain),
            FLAG_AUTHENTICATED => Some(Mode::Authenticated),
            f if f == FLAG_AUTHENTICATED | FLAG_ENCRYPTED => Some(Mode::Encrypted),
            _ => None,
        }
    }

    /// Bytes a datagram in this mode adds to its payload: the header, plus the tag
    /// unless plain (28 or 44).
    pub const fn overhead(self) -> usize {
        match self {
            Mode::Plain => HEADER_LEN,
            Mode::Authenticated | Mode::Encrypted => HEADER_LEN + TAG_LEN,
        }
    }
}

/// The cluster label's hash as carried in the header.
pub(crate) fn label_hash(label: &str) -> u32 {
    // Truncation to the low 32 bits is the documented format.
    xxh3_64(label.as_bytes()) as u32
}

/// A parsed header whose magic, version and flags are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) mode: Mode,
    pub(crate) label_hash: u32,
    pub(crate) fingerprint: u32,
    pub(crate) session: u64,
    pub(crate) sequence: u64,
}

impl Header {
    /// Appends the 28 header bytes.
    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.raw(&MAGIC)
            .u8(FORMAT_VERSION)
            .u8(self.mode.flags())
            .u32(self.label_hash)
            .u32(self.fingerprint)
            .u64(self.session)
            .u64(self.sequence);
    }

    /// Parses the header at the start of `datagram`, checking magic, version and flags
    /// (in that order).
    pub(crate) fn parse(datagram: &[u8]) -> Result<Header, Reject> {
        let too_short = Reject::TooShort {
            len: datagram.len(),
        };
        if datagram.len() < HEADER_LEN {
            return Err(too_short);
        }
        let mut r = Reader::new(datagram);
        // Cannot fail past the length check; map errors rather than unwrap anyway.
        let magic = r.raw(MAGIC.len()).map_err(|_| too_short)?;
        if magic != MAGIC {
            return Err(Reject::BadMagic);
        }
        let version = r.u8().map_err(|_| too_short)?;
        if version != FORMAT_VERSION {
            return Err(Reject::UnsupportedVersion { version });
        }
        let flags = r.u8().map_err(|_| too_short)?;
        let mode = Mode::from_flags(flags).ok_or(Reject::BadFlags { flags })?;
        Ok(Header {
            mode,
            label_hash: r.u32().map_err(|_| too_short)?,
            fingerprint: r.u32().map_err(|_| too_short)?,
            session: r.u64().map_err(|_| too_short)?,
            sequence: r.u64().map_err(|_| too_short)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn layout_is_pinned() {
        let h = Header {
            mode: Mode::Encrypted,
            label_hash: 0x0403_0201,
            fingerprint: 0x0807_0605,
            session: 0x1817_1615_1413_1211,
            sequence: 0x2827_2625_2423_2221,
        };
        let mut buf = Vec::new();
        h.write(&mut Writer::new(&mut buf));
        assert_eq!(
            buf,
            [
                b'S', b'H', 1, 3, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                0x18, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28
            ]
        );
        assert_eq!(buf.len(), HEADER_LEN);
        assert_eq!(Header::parse(&buf), Ok(h));
    }

    #[test]
    fn flags_and_modes() {
        for mode in [Mode::Plain, Mode::Authenticated, Mode::Encrypted] {
            assert_eq!(Mode::from_flags(mode.flags()), Some(mode));
        }
        let valid = (0..=255u8)
            .filter(|&f| Mode::from_flags(f).is_some())
            .count();
        assert_eq!(valid, 3);
        assert_eq!(Mode::from_flags(FLAG_ENCRYPTED), None);
        assert_eq!(Mode::Plain.overhead(), 28);
        assert_eq!(Mode::Encrypted.overhead(), 44);
    }

    #[test]
    fn parse_checks_in_order() {
        let mut buf = Vec::new();
        Header {
            mode: Mode::Plain,
            label_hash: 0,
            fingerprint: 0,
            session: 0,
            sequence: 0,
        }
        .write(&mut Writer::new(&mut buf));
        assert_eq!(
            Header::parse(&buf[..HEADER_LEN - 1]),
            Err(Reject::TooShort { len: 27 })
        );
        let mut bad = buf.clone();
        bad[3] = 0x80;
        assert_eq!(Header::parse(&bad), Err(Reject::BadFlags { flags: 0x80 }));
        bad[2] = 9;
        assert_eq!(
            Header::parse(&bad),
            Err(Reject::UnsupportedVersion { version: 9 })
        );
        bad[0] = b'X';
        assert_eq!(Header::parse(&bad), Err(Reject::BadMagic));
    }

    #[test]
    fn label_hash_is_truncated_xxh3() {
        assert_eq!(label_hash(""), xxh3_64(b"") as u32);
        assert_eq!(label_hash("prod"), xxh3_64(b"prod") as u32);
        assert_ne!(label_hash("prod"), label_hash("staging"));
    }
}
