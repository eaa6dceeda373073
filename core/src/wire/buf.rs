//! Byte writer and reader for the wire format: fixed little-endian integers, LEB128
//! varints, length-prefixed bytes and strings.
//!
//! This module owns the primitive encodings every wire message is built from. It knows
//! nothing about envelopes, keys or message kinds, and it never allocates on the read
//! side: getters borrow from the input.
//!
//! # Encodings
//!
//! * `u8`, `u16`, `u32`, `u64`: fixed width, little-endian.
//! * `varint`: unsigned LEB128 of a `u64`, 1–10 bytes, 7 bits per byte, low bits
//!   first, high bit set on every byte but the last. Only the shortest encoding is
//!   accepted, so every value has exactly one encoding (decode then encode gives back
//!   the same bytes).
//! * `bytes`: `varint(len)` then `len` raw bytes.
//! * `str`: `bytes` of UTF-8 text.
//!
//! # Robustness
//!
//! A [`Reader`] never panics and never reads past its input: a length beyond the
//! remaining bytes, a varint longer than 10 bytes or above `u64::MAX`, a non-minimal
//! varint and invalid UTF-8 are all [`DecodeError`]s. A failed getter may have consumed
//! part of the input; callers treat any error as "the whole message is invalid".

use alloc::vec::Vec;

use super::error::DecodeError;

/// Longest LEB128 encoding of a `u64` (`ceil(64 / 7)`).
const MAX_VARINT_LEN: usize = 10;

/// The number of bytes [`Writer::varint`] writes for `value` (1–10).
///
/// Callers use it to predict encoded sizes, e.g. to pack messages under
/// [`Codec::max_payload`](super::Codec::max_payload) without encoding twice.
#[inline]
pub const fn varint_len(value: u64) -> usize {
    // Significant bits, at least 1 so that 0 takes one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends wire encodings to a borrowed `Vec<u8>`.
///
/// Writing cannot fail; each method returns `&mut Self` so calls can be chained.
/// The writer only appends: bytes already in the vector are kept.
///
/// ```
/// use shoal_core::wire::{Reader, Writer};
///
/// let mut buf = Vec::new();
/// Writer::new(&mut buf).u8(7).varint(300).str("alive");
/// let mut r = Reader::new(&buf);
/// assert_eq!(r.u8(), Ok(7));
/// assert_eq!(r.varint(), Ok(300));
/// assert_eq!(r.str(), Ok("alive"));
/// assert_eq!(r.finish(), Ok(()));
/// ```
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut Vec<u8>,
}

impl<'b> Writer<'b> {
    /// A writer appending to `buf`.
    #[inline]
    pub fn new(buf: &'b mut Vec<u8>) -> Self {
        Writer { buf }
    }

    /// Total length of the underlying buffer (including bytes it held before).
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the underlying buffer is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Appends one byte.
    #[inline]
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    /// Appends a `u16`, little-endian (2 bytes).
    #[inline]
    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.raw(&value.to_le_bytes())
    }

    /// Appends a `u32`, little-endian (4 bytes).
    #[inline]
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.raw(&value.to_le_bytes())
    }

    /// Appends a `u64`, little-endian (8 bytes).
    #[inline]
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.raw(&value.to_le_bytes())
    }

    /// Appends `value` as an LEB128 varint ([`varint_len`] bytes).
    #[inline]
    pub fn varint(&mut self, mut value: u64) -> &mut Self {
        while value >= 0x80 {
            self.buf.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
        self
    }

    /// Appends `bytes` as-is, without a length (for fixed-size fields).
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Appends `varint(bytes.len())` then the bytes.
    #[inline]
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.varint(bytes.len() as u64).raw(bytes)
    }

    /// Appends a string as length-prefixed UTF-8 bytes.
    #[inline]
    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }
}

/// Reads wire encodings from a byte slice, borrowing instead of copying.
///
/// Every getter returns a [`DecodeError`] instead of panicking when the input is short
/// or malformed. Call [`finish`](Reader::finish) at the end of a message to reject
/// trailing bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `input`.
    #[inline]
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    /// Number of bytes not read yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Whether every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Succeeds only when every byte has been read ([`DecodeError::TrailingBytes`]
    /// otherwise).
    #[inline]
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    /// Reads exactly `len` raw bytes (a fixed-size field, no length prefix).
    #[inline]
    pub fn raw(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.input.len() {
            return Err(DecodeError::UnexpectedEnd);
        }
        let (head, tail) = self.input.split_at(len);
        self.input = tail;
        Ok(head)
    }

    /// Reads everything that is left (possibly nothing).
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.input)
    }

    /// Reads `N` raw bytes into an array.
    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.raw(N)?);
        Ok(out)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&first, tail) = self.input.split_first().ok_or(DecodeError::UnexpectedEnd)?;
        self.input = tail;
        Ok(first)
    }

    /// Reads a little-endian `u16`.
    #[inline]
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32`.
    #[inline]
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_le_bytes)
    }

    /// Reads a little-endian `u64`.
    #[inline]
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads an LEB128 varint.
    ///
    /// Errors: [`DecodeError::UnexpectedEnd`] if the input stops mid-varint,
    /// [`DecodeError::VarintOverflow`] if it is longer than 10 bytes or above
    /// `u64::MAX`, [`DecodeError::NonMinimalVarint`] if a shorter encoding exists.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8()?;
            let low = u64::from(byte & 0x7f);
            if i == MAX_VARINT_LEN - 1 && byte > 1 {
                // The 10th byte carries bit 63 only; anything else overflows (or, with
                // the continuation bit, makes the varint longer than 10 bytes).
                return Err(DecodeError::VarintOverflow);
            }
            value |= low << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(DecodeError::NonMinimalVarint);
                }
                return Ok(value);
            }
        }
        // Unreachable in practice: the 10th byte either ends the varint or errors.
        Err(DecodeError::VarintOverflow)
    }

    /// Reads a varint length then that many bytes, borrowed from the input.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        // A length that does not fit in usize is certainly beyond the input.
        let len = usize::try_from(len).map_err(|_| DecodeError::UnexpectedEnd)?;
        self.raw(len)
    }

    /// Reads length-prefixed bytes that must be valid UTF-8, borrowed from the input.
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| DecodeError::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn enc_varint(v: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        Writer::new(&mut buf).varint(v);
        buf
    }

    #[test]
    fn varint_known_encodings() {
        assert_eq!(enc_varint(0), [0x00]);
        assert_eq!(enc_varint(1), [0x01]);
        assert_eq!(enc_varint(127), [0x7f]);
        assert_eq!(enc_varint(128), [0x80, 0x01]);
        assert_eq!(enc_varint(300), [0xac, 0x02]);
        assert_eq!(enc_varint(16_383), [0xff, 0x7f]);
        assert_eq!(enc_varint(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            enc_varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn varint_len_matches_encoding_at_every_boundary() {
        for shift in 0..64 {
            for v in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                assert_eq!(varint_len(v), enc_varint(v).len(), "value {v}");
                let buf = enc_varint(v);
                let mut r = Reader::new(&buf);
                assert_eq!(r.varint(), Ok(v));
                assert!(r.is_empty());
            }
        }
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(u64::MAX), 10);
    }

    #[test]
    fn varint_rejects_overflow_overlong_and_non_minimal() {
        // 10th byte = 2: value would need bit 64.
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            Reader::new(&over).varint(),
            Err(DecodeError::VarintOverflow)
        );
        // 11 bytes.
        let long = [
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00,
        ];
        assert_eq!(
            Reader::new(&long).varint(),
            Err(DecodeError::VarintOverflow)
        );
        // 1 encoded in two bytes.
        assert_eq!(
            Reader::new(&[0x81, 0x00]).varint(),
            Err(DecodeError::NonMinimalVarint)
        );
        // Truncated.
        assert_eq!(
            Reader::new(&[0x80]).varint(),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(Reader::new(&[]).varint(), Err(DecodeError::UnexpectedEnd));
    }

    #[test]
    fn fixed_width_little_endian() {
        let mut buf = Vec::new();
        Writer::new(&mut buf)
            .u8(0xab)
            .u16(0x0102)
            .u32(0x0304_0506)
            .u64(0x0708_090a_0b0c_0d0e);
        assert_eq!(
            buf,
            [
                0xab, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08,
                0x07
            ]
        );
        let mut r = Reader::new(&buf);
        assert_eq!(r.u8(), Ok(0xab));
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u32(), Ok(0x0304_0506));
        assert_eq!(r.u64(), Ok(0x0708_090a_0b0c_0d0e));
        assert_eq!(r.u8(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn short_fixed_reads_fail_without_panicking() {
        assert_eq!(Reader::new(&[1]).u16(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(
            Reader::new(&[1, 2, 3]).u32(),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(Reader::new(&[0; 7]).u64(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(Reader::new(&[0; 3]).raw(4), Err(DecodeError::UnexpectedEnd));
    }

    #[test]
    fn bytes_and_str_borrow_from_input() {
        let mut buf = Vec::new();
        Writer::new(&mut buf)
            .bytes(b"\x00\xff")
            .str("héllo")
            .bytes(&[]);
        let mut r = Reader::new(&buf);
        let b = r.bytes().unwrap();
        assert_eq!(b, b"\x00\xff");
        // Borrowed: the slice points into `buf`.
        assert_eq!(b.as_ptr(), buf[1..].as_ptr());
        assert_eq!(r.str(), Ok("héllo"));
        assert_eq!(r.bytes(), Ok(&[][..]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn lengths_beyond_input_and_bad_utf8_are_errors() {
        // Length 5, only 2 bytes follow.
        assert_eq!(
            Reader::new(&[5, 1, 2]).bytes(),
            Err(DecodeError::UnexpectedEnd)
        );
        // Length u64::MAX.
        let mut buf = Vec::new();
        Writer::new(&mut buf).varint(u64::MAX);
        assert_eq!(Reader::new(&buf).bytes(), Err(DecodeError::UnexpectedEnd));
        // Lone continuation byte is not UTF-8.
        assert_eq!(Reader::new(&[1, 0x80]).str(), Err(DecodeError::InvalidUtf8));
    }

    #[test]
    fn finish_rejects_trailing_bytes_and_rest_takes_them() {
        let data = vec![1, 2, 3];
        let mut r = Reader::new(&data);
        r.u8().unwrap();
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.clone().finish(), Err(DecodeError::TrailingBytes));
        assert_eq!(r.rest(), &[2, 3]);
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn writer_appends_to_existing_contents() {
        let mut buf = vec![9];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.len(), 1);
        w.u8(1);
        assert!(!w.is_empty());
        assert_eq!(buf, [9, 1]);
    }
}
