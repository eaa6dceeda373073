//! The error types of the wire layer: why a datagram was rejected, why one could not be
//! sealed, why a byte string does not decode, why a keyring change was refused.
//!
//! This module only defines the types and their messages. Deciding *when* to return
//! them is the job of the envelope, reader and keyring modules; counting them is the
//! job of [`RejectCounters`](super::RejectCounters).

use core::fmt;

/// Why a byte string could not be decoded by a [`Reader`](super::Reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value did (this includes a length prefix larger
    /// than the bytes that follow).
    UnexpectedEnd,
    /// A varint is longer than 10 bytes or its value does not fit in a `u64`.
    VarintOverflow,
    /// A varint used more bytes than needed (only the shortest encoding is valid, so
    /// every value has one encoding).
    NonMinimalVarint,
    /// A string is not valid UTF-8.
    InvalidUtf8,
    /// The message is complete but bytes are left over.
    TrailingBytes,
    /// The bytes decoded but the value is not acceptable to the caller (the message
    /// says why, e.g. "unknown message kind").
    Invalid(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd => f.write_str("input ended in the middle of a value"),
            DecodeError::VarintOverflow => {
                f.write_str("varint is longer than 10 bytes or exceeds u64::MAX")
            }
            DecodeError::NonMinimalVarint => f.write_str("varint is not in its shortest encoding"),
            DecodeError::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeError::TrailingBytes => f.write_str("bytes left over after the message"),
            DecodeError::Invalid(why) => write!(f, "invalid value: {why}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why [`Codec::open`](super::Codec::open) rejected a datagram.
///
/// Each variant has its own counter in [`RejectCounters`](super::RejectCounters). The
/// checks run in the order of the variants below, so a datagram is rejected for the
/// first reason that applies; the authentication tag is always checked before the
/// replay window, so unauthenticated garbage never touches replay state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reject {
    /// Longer than [`MAX_DATAGRAM`](super::MAX_DATAGRAM).
    TooLong {
        /// The datagram's length.
        len: usize,
    },
    /// Shorter than the header (plus the tag, when the header says there is one).
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// The first two bytes are not shoal's magic: not a shoal datagram at all.
    BadMagic,
    /// A format version this build does not read (it reads version 1).
    UnsupportedVersion {
        /// The version byte of the datagram.
        version: u8,
    },
    /// The flags byte has unknown bits set, or says "encrypted" without
    /// "authenticated".
    BadFlags {
        /// The flags byte of the datagram.
        flags: u8,
    },
    /// The datagram carries another cluster's label hash.
    LabelMismatch,
    /// This receiver has a keyring but the datagram is neither authenticated nor
    /// encrypted.
    MissingAuth,
    /// This receiver has no keyring but the datagram is authenticated or encrypted:
    /// the two ends are configured differently.
    UnexpectedAuth,
    /// The datagram was sealed with a key whose fingerprint is not in the keyring.
    UnknownKey {
        /// The key fingerprint from the header.
        fingerprint: u32,
    },
    /// The authentication tag does not verify: the datagram was altered, forged, sealed
    /// for another cluster label, or sealed with a different key of the same
    /// fingerprint.
    BadTag,
    /// This (session, sequence) was already accepted.
    Replayed,
    /// The sequence number is older than the replay window of its session.
    TooOld,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::TooLong { len } => write!(
                f,
                "datagram of {len} bytes exceeds the {} byte limit",
                super::MAX_DATAGRAM
            ),
            Reject::TooShort { len } => {
                write!(f, "datagram of {len} bytes is shorter than its header and tag")
            }
            Reject::BadMagic => f.write_str("not a shoal datagram (bad magic bytes)"),
            Reject::UnsupportedVersion { version } => write!(
                f,
                "wire format version {version} is not supported (this build reads version {})",
                super::header::FORMAT_VERSION
            ),
            Reject::BadFlags { flags } => write!(
                f,
                "invalid header flags {flags:#04x} (unknown bits, or encrypted without authenticated)"
            ),
            Reject::LabelMismatch => {
                f.write_str("datagram belongs to a different cluster (label hash differs)")
            }
            Reject::MissingAuth => f.write_str(
                "datagram is not authenticated but this receiver requires a key from its keyring",
            ),
            Reject::UnexpectedAuth => f.write_str(
                "datagram is authenticated or encrypted but this receiver has no keyring",
            ),
            Reject::UnknownKey { fingerprint } => {
                write!(f, "datagram was sealed with key {fingerprint:08x}, which is not in the keyring")
            }
            Reject::BadTag => f.write_str(
                "authentication tag does not verify (altered, forged, other cluster label or other key)",
            ),
            Reject::Replayed => f.write_str("datagram was already received (replay)"),
            Reject::TooOld => {
                f.write_str("sequence number is older than the replay window of its session")
            }
        }
    }
}

impl core::error::Error for Reject {}

/// Why [`Codec::seal`](super::Codec::seal) could not produce a datagram. Nothing is
/// consumed: the sequence number is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SealError {
    /// The payload is larger than [`Codec::max_payload`](super::Codec::max_payload),
    /// so the datagram would exceed [`MAX_DATAGRAM`](super::MAX_DATAGRAM).
    TooLarge {
        /// The payload's length.
        len: usize,
        /// The largest payload the codec can seal in its current mode.
        max: usize,
    },
    /// All 2^64 sequence numbers of this session are used; reusing one would reuse an
    /// encryption nonce. Create a new codec with a fresh session.
    SequenceExhausted,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::TooLarge { len, max } => write!(
                f,
                "payload of {len} bytes exceeds the {max} byte budget of one datagram"
            ),
            SealError::SequenceExhausted => {
                f.write_str("sequence numbers of this session are exhausted; start a new session")
            }
        }
    }
}

impl core::error::Error for SealError {}

/// Why a key could not be parsed or a keyring change was refused. A refused change
/// leaves the keyring as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyringError {
    /// A hex key is not exactly 64 hexadecimal digits.
    InvalidHex,
    /// The keyring already holds [`Keyring::MAX_KEYS`](super::Keyring::MAX_KEYS) keys.
    Full,
    /// A different key with the same fingerprint is already in the keyring, so
    /// receivers could not tell them apart.
    FingerprintCollision {
        /// The shared fingerprint.
        fingerprint: u32,
    },
    /// No key with this fingerprint is in the keyring.
    UnknownKey {
        /// The fingerprint asked for.
        fingerprint: u32,
    },
    /// The primary key cannot be removed; make another key primary first.
    RemovePrimary,
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::InvalidHex => f.write_str("a key must be exactly 64 hex digits"),
            KeyringError::Full => write!(
                f,
                "the keyring already holds the maximum of {} keys",
                super::Keyring::MAX_KEYS
            ),
            KeyringError::FingerprintCollision { fingerprint } => write!(
                f,
                "another key with fingerprint {fingerprint:08x} is already in the keyring"
            ),
            KeyringError::UnknownKey { fingerprint } => {
                write!(
                    f,
                    "no key with fingerprint {fingerprint:08x} is in the keyring"
                )
            }
            KeyringError::RemovePrimary => {
                f.write_str("the primary key cannot be removed; make another key primary first")
            }
        }
    }
}

impl core::error::Error for KeyringError {}
