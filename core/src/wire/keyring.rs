//! Shared secret keys and the keyring that lets a cluster rotate them without downtime.
//!
//! This module owns key material: parsing, fingerprints, and the set of keys a member
//! accepts (one of which, the primary, it seals with). It does not use keys to
//! authenticate or encrypt anything; the envelope derives its own per-purpose subkeys
//! from them.
//!
//! # Rotation without downtime
//!
//! A datagram names the key it was sealed with by fingerprint, and a receiver accepts
//! any key in its ring. To replace key `A` with key `B` on a running cluster:
//!
//! 1. **Add** `B` to every member's keyring (`A` stays primary). Everyone still seals
//!    with `A`, and everyone can now also open `B`.
//! 2. Once every member has `B`, **make `B` primary** everywhere
//!    ([`Keyring::set_primary`]). Members switch one at a time; during the switch some
//!    seal with `A` and some with `B`, and all of them accept both.
//! 3. Once every member seals with `B`, **remove** `A` everywhere
//!    ([`Keyring::remove`]). From then on datagrams sealed with `A` are rejected as
//!    [`UnknownKey`](super::Reject::UnknownKey).
//!
//! Skipping the wait between steps drops datagrams between members that are on
//! different steps (gossip retransmits, but failure detection may flap).

use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

use super::error::KeyringError;

/// Domain separation for key fingerprints, so a fingerprint is never the prefix of some
/// other SHA-256 that shoal (or anyone) computes over the raw key.
const FINGERPRINT_DOMAIN: &[u8] = b"shoal/wire/v1/key-fingerprint\0";

/// A 256-bit shared secret.
///
/// `Debug` prints only the fingerprint, never the secret.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
    fingerprint: u32,
}

impl Key {
    /// A key from 32 secret bytes (e.g. from a secrets manager or a CSPRNG).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_DOMAIN)
            .chain_update(bytes)
            .finalize();
        let fingerprint = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        Key { bytes, fingerprint }
    }

    /// A key from exactly 64 hexadecimal digits (either case, no prefix, no spaces).
    pub fn from_hex(hex: &str) -> Result<Self, KeyringError> {
        let digits = hex.as_bytes();
        if digits.len() != 64 {
            return Err(KeyringError::InvalidHex);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let hi = hex_value(pair[0]).ok_or(KeyringError::InvalidHex)?;
            let lo = hex_value(pair[1]).ok_or(KeyringError::InvalidHex)?;
            *byte = (hi << 4) | lo;
        }
        Ok(Key::from_bytes(bytes))
    }

    /// The key's fingerprint: the first 4 bytes (big-endian) of
    /// `SHA-256("shoal/wire/v1/key-fingerprint\0" ‖ key)`. Datagrams carry it so the
    /// receiver knows which key to verify with; it reveals nothing useful about the key.
    #[inline]
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// The secret bytes, for the envelope's subkey derivation only.
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Whether both keys hold the same secret (not constant-time: used only when
    /// editing a keyring, never on received data).
    fn same_secret(&self, other: &Key) -> bool {
        self.bytes == other.bytes
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:08x})", self.fingerprint)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The keys a member accepts: one primary key (used to seal) and up to
/// [`MAX_KEYS`](Keyring::MAX_KEYS)` - 1` others (accepted when opening).
///
/// To rotate keys on a running cluster: add the new key on every member, then make it
/// primary on every member, then remove the old one — at each step every member still
/// opens what every other seals. Every failed change returns a [`KeyringError`] and
/// leaves the ring unchanged.
#[derive(Debug, Clone)]
pub struct Keyring {
    /// `keys[0]` is the primary; fingerprints are distinct.
    keys: Vec<Key>,
}

impl Keyring {
    /// Most keys one ring holds (the primary included). Rotation needs two; a few more
    /// leave room for overlapping rotations.
    pub const MAX_KEYS: usize = 8;

    /// A ring holding only `primary`.
    pub fn new(primary: Key) -> Self {
        let mut keys = Vec::with_capacity(Self::MAX_KEYS);
        keys.push(primary);
        Keyring { keys }
    }

    /// The key new datagrams are sealed with.
    #[inline]
    pub fn primary(&self) -> &Key {
        &self.keys[0]
    }

    /// The key with this fingerprint, if it is in the ring.
    #[inline]
    pub fn get(&self, fingerprint: u32) -> Option<&Key> {
        self.keys.iter().find(|k| k.fingerprint == fingerprint)
    }

    /// Whether a key with this fingerprint is in the ring.
    #[inline]
    pub fn contains(&self, fingerprint: u32) -> bool {
        self.get(fingerprint).is_some()
    }

    /// Number of keys, the primary included (at least 1).
    #[inline]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always `false`: a ring holds at least its primary key.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// All keys, primary first.
    pub fn keys(&self) -> impl Iterator<Item = &Key> + '_ {
        self.keys.iter()
    }

    /// Accepts `key` in addition to the keys already present (it does not become
    /// primary). Adding a key that is already present does nothing.
    ///
    /// Errors: [`KeyringError::FingerprintCollision`] if a *different* key has the same
    /// fingerprint, [`KeyringError::Full`] at [`MAX_KEYS`](Keyring::MAX_KEYS).
    pub fn add(&mut self, key: Key) -> Result<(), KeyringError> {
        if let Some(present) = self.get(key.fingerprint) {
            return if present.same_secret(&key) {
                Ok(())
            } else {
                Err(KeyringError::FingerprintCollision {
                    fingerprint: key.fingerprint,
                })
            };
        }
        if self.keys.len() >= Self::MAX_KEYS {
            return Err(KeyringError::Full);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Stops accepting the key with this fingerprint and returns it.
    ///
    /// Errors: [`KeyringError::RemovePrimary`] for the primary key,
    /// [`KeyringError::UnknownKey`] if no key has this fingerprint.
    pub fn remove(&mut self, fingerprint: u32) -> Result<Key, KeyringError> {
        let at = self.position(fingerprint)?;
        if at == 0 {
            return Err(KeyringError::RemovePrimary);
        }
        Ok(self.keys.remove(at))
    }

    /// Makes the key with this fingerprint the primary; the previous primary stays in
    /// the ring as an accepted key.
    ///
    /// Errors: [`KeyringError::UnknownKey`] if no key has this fingerprint (add it
    /// first).
    pub fn set_primary(&mut self, fingerprint: u32) -> Result<(), KeyringError> {
        let at = self.position(fingerprint)?;
        self.keys.swap(0, at);
        Ok(())
    }

    fn position(&self, fingerprint: u32) -> Result<usize, KeyringError> {
        self.keys
            .iter()
            .position(|k| k.fingerprint == fingerprint)
            .ok_or(KeyringError::UnknownKey { fingerprint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn key(n: u8) -> Key {
        Key::from_bytes([n; 32])
    }

    #[test]
    fn hex_parses_both_cases_and_rejects_everything_else() {
        let lower = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let mut expect = [0u8; 32];
        for (i, b) in expect.iter_mut().enumerate() {
            *b = i as u8;
        }
        let k = Key::from_hex(lower).unwrap();
        assert_eq!(k.secret(), &expect);
        let upper = lower.to_ascii_uppercase();
        assert_eq!(Key::from_hex(&upper).unwrap().secret(), &expect);
        assert_eq!(
            Key::from_hex(&lower[..62]).unwrap_err(),
            KeyringError::InvalidHex
        );
        let mut long = alloc::string::String::from(lower);
        long.push('0');
        assert_eq!(Key::from_hex(&long).unwrap_err(), KeyringError::InvalidHex);
        let bad = lower.replacen('0', "g", 1);
        assert_eq!(Key::from_hex(&bad).unwrap_err(), KeyringError::InvalidHex);
        // 64 bytes but not 64 ASCII digits: a multi-byte character.
        let wide = format!("é{}", &lower[2..]);
        assert_eq!(wide.len(), 64);
        assert_eq!(Key::from_hex(&wide).unwrap_err(), KeyringError::InvalidHex);
    }

    #[test]
    fn fingerprint_is_domain_separated_sha256_prefix() {
        let k = key(0);
        let plain = Sha256::digest([0u8; 32]);
        let plain = u32::from_be_bytes([plain[0], plain[1], plain[2], plain[3]]);
        assert_ne!(k.fingerprint(), plain);
        let mut input = alloc::vec::Vec::from(FINGERPRINT_DOMAIN);
        input.extend_from_slice(&[0u8; 32]);
        let d = Sha256::digest(&input);
        assert_eq!(
            k.fingerprint(),
            u32::from_be_bytes([d[0], d[1], d[2], d[3]])
        );
        assert_ne!(key(0).fingerprint(), key(1).fingerprint());
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let k = Key::from_bytes([0xab; 32]);
        let shown = format!("{k:?} {:?}", Keyring::new(k.clone()));
        assert!(!shown.contains("171, 171") && !shown.contains("ab, ab"));
        assert!(!shown.contains("abababab"));
        assert!(shown.contains(&format!("{:08x}", k.fingerprint())));
    }

    #[test]
    fn add_remove_set_primary() {
        let mut ring = Keyring::new(key(1));
        assert_eq!(ring.primary().fingerprint(), key(1).fingerprint());
        ring.add(key(2)).unwrap();
        ring.add(key(2)).unwrap(); // idempotent
        assert_eq!(ring.len(), 2);
        assert!(ring.contains(key(2).fingerprint()));
        assert_eq!(
            ring.remove(key(1).fingerprint()).unwrap_err(),
            KeyringError::RemovePrimary
        );
        let missing = key(3).fingerprint();
        assert_eq!(
            ring.set_primary(missing).unwrap_err(),
            KeyringError::UnknownKey {
                fingerprint: missing
            }
        );
        assert_eq!(
            ring.remove(missing).unwrap_err(),
            KeyringError::UnknownKey {
                fingerprint: missing
            }
        );
        ring.set_primary(key(2).fingerprint()).unwrap();
        assert_eq!(ring.primary().fingerprint(), key(2).fingerprint());
        assert!(ring.contains(key(1).fingerprint()));
        let removed = ring.remove(key(1).fingerprint()).unwrap();
        assert_eq!(removed.fingerprint(), key(1).fingerprint());
        assert_eq!(ring.len(), 1);
        assert!(ring.get(key(1).fingerprint()).is_none());
    }

    #[test]
    fn ring_is_bounded() {
        let mut ring = Keyring::new(key(0));
        for n in 1..Keyring::MAX_KEYS as u8 {
            ring.add(key(n)).unwrap();
        }
        assert_eq!(ring.add(key(200)).unwrap_err(), KeyringError::Full);
        // Re-adding a present key is still fine when full.
        ring.add(key(3)).unwrap();
        assert_eq!(ring.len(), Keyring::MAX_KEYS);
        assert_eq!(ring.keys().count(), Keyring::MAX_KEYS);
    }

    #[test]
    fn fingerprint_collision_is_refused() {
        // Find two keys with equal fingerprints is infeasible here; simulate one by
        // forging the cached fingerprint of a second key.
        let mut ring = Keyring::new(key(1));
        let mut impostor = key(2);
        impostor.fingerprint = key(1).fingerprint();
        assert_eq!(
            ring.add(impostor).unwrap_err(),
            KeyringError::FingerprintCollision {
                fingerprint: key(1).fingerprint()
            }
        );
        assert_eq!(ring.len(), 1);
    }
}
