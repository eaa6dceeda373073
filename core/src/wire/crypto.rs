//! Per-key cryptographic state of the envelope: subkey derivation, HMAC tags and
//! XChaCha20-Poly1305 sealing.
//!
//! This module owns every call into the RustCrypto crates. It decides nothing about
//! headers, modes or replay; it computes and checks tags over the bytes it is given.
//! Tags are checked only with the crates' constant-time verify functions.
//!
//! # Subkeys
//!
//! A keyring [`Key`] is never used directly. Two independent subkeys are derived from
//! it, so the MAC and the cipher never share key material:
//!
//! * MAC key: `HMAC-SHA256(key, "shoal/wire/v1/hmac-sha256")`
//! * AEAD key: `HMAC-SHA256(key, "shoal/wire/v1/xchacha20poly1305")`
//!
//! # Label binding
//!
//! Both modes authenticate the *binding* `"shoal/wire/v1\0" ‖ varint(len(label)) ‖
//! label` before the header, so two clusters whose labels share a 32-bit hash still
//! reject each other's datagrams (as [`BadTag`](super::Reject::BadTag)).

use alloc::vec::Vec;
use core::fmt;

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::buf::Writer;
use super::header::TAG_LEN;
use super::keyring::Key;

type HmacSha256 = Hmac<Sha256>;

const MAC_SUBKEY_INFO: &[u8] = b"shoal/wire/v1/hmac-sha256";
const AEAD_SUBKEY_INFO: &[u8] = b"shoal/wire/v1/xchacha20poly1305";
const LABEL_DOMAIN: &[u8] = b"shoal/wire/v1\0";

/// The bytes that bind a cluster label into every tag (see the module docs).
pub(crate) fn label_binding(label: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(LABEL_DOMAIN.len() + 10 + label.len());
    Writer::new(&mut out).raw(LABEL_DOMAIN).str(label);
    out
}

/// HMAC-SHA256 keyed with a 32-byte key.
///
/// HMAC zero-pads keys shorter than the hash block (64 bytes), so keying it with the
/// key followed by 32 zero bytes through the fixed-size constructor is HMAC with the
/// 32-byte key itself, without the fallible variable-length constructor.
fn hmac_sha256(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as KeyInit>::new(&block.into())
}

/// `HMAC-SHA256(key, info)` as a 32-byte subkey.
fn subkey(key: &[u8; 32], info: &[u8]) -> [u8; 32] {
    hmac_sha256(key)
        .chain_update(info)
        .finalize()
        .into_bytes()
        .into()
}

/// The XChaCha20 nonce of a datagram: `LE64(session) ‖ LE64(sequence) ‖ 0^8`.
fn nonce(session: u64, sequence: u64) -> XNonce {
    let mut n = [0u8; 24];
    n[..8].copy_from_slice(&session.to_le_bytes());
    n[8..16].copy_from_slice(&sequence.to_le_bytes());
    n.into()
}

/// Everything needed to seal and open with one keyring key for one cluster label.
#[derive(Clone)]
pub(crate) struct KeyState {
    fingerprint: u32,
    /// Keyed with the MAC subkey, label binding already absorbed (cloned per datagram).
    mac: HmacSha256,
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyState({:08x})", self.fingerprint)
    }
}

impl KeyState {
    /// Derives the subkeys of `key` and absorbs the label binding into the MAC state.
    pub(crate) fn new(key: &Key, binding: &[u8]) -> Self {
        let mac = hmac_sha256(&subkey(key.secret(), MAC_SUBKEY_INFO)).chain_update(binding);
        let aead_key = subkey(key.secret(), AEAD_SUBKEY_INFO);
        KeyState {
            fingerprint: key.fingerprint(),
            mac,
            aead: XChaCha20Poly1305::new(&aead_key.into()),
        }
    }

    /// The fingerprint of the key this state was derived from.
    #[inline]
    pub(crate) fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// The 16-byte tag of `header ‖ payload` (HMAC-SHA256, first 16 bytes).
    pub(crate) fn tag(&self, header_and_payload: &[u8]) -> [u8; TAG_LEN] {
        let full = self
            .mac
            .clone()
            .chain_update(header_and_payload)
            .finalize()
            .into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// Whether `tag` is the 16-byte tag of `header_and_payload` (constant-time
    /// comparison). The length is checked first: the crate's truncated verify accepts
    /// any shorter prefix of the MAC, which would make short tags easy to forge.
    pub(crate) fn verify(&self, header_and_payload: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_LEN
            && self
                .mac
                .clone()
                .chain_update(header_and_payload)
                .verify_truncated_left(tag)
                .is_ok()
    }

    /// Encrypts `buffer` in place and returns the Poly1305 tag over
    /// `associated ‖ ciphertext`. `None` only if the cipher refuses the length, which
    /// cannot happen for datagram-sized input.
    pub(crate) fn encrypt(
        &self,
        session: u64,
        sequence: u64,
        associated: &[u8],
        buffer: &mut [u8],
    ) -> Option<[u8; TAG_LEN]> {
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce(session, sequence), associated, buffer.into())
            .ok()?;
        Some(tag.into())
    }

    /// Verifies the tag (constant-time) and, only if it is valid, decrypts
    /// `ciphertext` into `plaintext` (same length). Returns whether the tag was valid.
    pub(crate) fn decrypt(
        &self,
        session: u64,
        sequence: u64,
        associated: &[u8],
        ciphertext: &[u8],
        plaintext: &mut [u8],
        tag: &[u8],
    ) -> bool {
        let Ok(tag) = tag.try_into() else {
            return false;
        };
        let Ok(buffer) = InOutBuf::new(ciphertext, plaintext) else {
            return false;
        };
        self.aead
            .decrypt_inout_detached(&nonce(session, sequence), associated, buffer, &tag)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn padded_constructor_is_plain_hmac() {
        // RFC 4231 test case 1: 20-byte key 0x0b…, data "Hi There". HMAC zero-pads the
        // key, so the same key zero-padded to 32 bytes gives the same MAC.
        let mut key = [0u8; 32];
        key[..20].fill(0x0b);
        let mac = hmac_sha256(&key)
            .chain_update(b"Hi There")
            .finalize()
            .into_bytes();
        assert_eq!(
            mac.as_slice(),
            hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        );
    }

    #[test]
    fn nonce_layout() {
        let n = nonce(0x0807_0605_0403_0201, 0x100f_0e0d_0c0b_0a09);
        assert_eq!(
            n.as_slice(),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn subkeys_differ_from_each_other_and_the_key() {
        let key = [7u8; 32];
        let mac = subkey(&key, MAC_SUBKEY_INFO);
        let aead = subkey(&key, AEAD_SUBKEY_INFO);
        assert_ne!(mac, aead);
        assert_ne!(mac, key);
        assert_ne!(aead, key);
    }

    #[test]
    fn tags_and_ciphertexts_depend_on_label_and_key() {
        let k1 = Key::from_bytes([1; 32]);
        let k2 = Key::from_bytes([2; 32]);
        let a = KeyState::new(&k1, &label_binding("a"));
        let b = KeyState::new(&k1, &label_binding("b"));
        let c = KeyState::new(&k2, &label_binding("a"));
        let msg = b"header and payload";
        let tag = a.tag(msg);
        assert!(a.verify(msg, &tag));
        assert!(!b.verify(msg, &tag));
        assert!(!c.verify(msg, &tag));
        assert!(!a.verify(b"header and payloaD", &tag));
        assert!(!a.verify(msg, &tag[..15]));
        assert!(!a.verify(msg, &[]));

        let mut buf = *b"secret gossip";
        let t = a.encrypt(1, 2, b"ad", &mut buf).unwrap();
        assert_ne!(&buf, b"secret gossip");
        let mut plain = [0u8; 13];
        assert!(!a.decrypt(1, 3, b"ad", &buf, &mut plain, &t)); // other nonce
        assert!(!a.decrypt(1, 2, b"aD", &buf, &mut plain, &t)); // other AD
        assert!(!c.decrypt(1, 2, b"ad", &buf, &mut plain, &t)); // other key
        assert!(!a.decrypt(1, 2, b"ad", &buf, &mut plain[..12], &t)); // length
        assert!(!a.decrypt(1, 2, b"ad", &buf, &mut plain, &t[..15])); // tag length
        assert!(a.decrypt(1, 2, b"ad", &buf, &mut plain, &t));
        assert_eq!(&plain, b"secret gossip");
    }
}
