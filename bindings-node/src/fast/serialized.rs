//! Reads an array of strings in V8's serialization format (`v8.serialize(keys)`):
//! the cheapest way to hand many JavaScript strings to native code at once.
//!
//! Only the shape `v8.serialize` writes for a dense array of strings is accepted:
//! header `0xFF <version>`, `'A' <length>`, per element an optional padding byte and
//! `'"' <n> <Latin-1 bytes>` or `'c' <n> <UTF-16LE bytes>`, then
//! `'$' <properties> <length>`. Anything else (holes, non-strings, extra properties,
//! an unknown version) returns `None`, and the caller falls back to the generic path,
//! so a format change in a future V8 costs speed, never correctness. Tested from
//! JavaScript in `tests/ring_fast.test.js` (the addon has no Rust test harness).

use std::borrow::Cow;

const VERSION_TAG: u8 = 0xFF;
const PADDING: u8 = 0x00;
const DENSE_ARRAY: u8 = b'A';
const END_DENSE_ARRAY: u8 = b'$';
const ONE_BYTE_STRING: u8 = b'"';
const TWO_BYTE_STRING: u8 = b'c';
/// Versions whose string and dense-array encoding is the one described above.
const VERSIONS: std::ops::RangeInclusive<u64> = 13..=15;

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn bytes(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok()?;
        let end = self.at.checked_add(n)?;
        let s = self.buf.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
}

/// The UTF-8 bytes of a Latin-1 string (borrowed when it is ASCII).
fn latin1_to_utf8(s: &[u8]) -> Cow<'_, [u8]> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len() * 2);
    for &b in s {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice(&[0xC0 | (b >> 6), 0x80 | (b & 0x3F)]);
        }
    }
    Cow::Owned(out)
}

/// The UTF-8 bytes of a UTF-16LE string, lone surrogates replaced by U+FFFD (as
/// Node-API's `napi_get_value_string_utf8` and `Buffer.from(string)` do).
fn utf16le_to_utf8(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let units = s.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes(),
    )
}

/// Calls `each` with the UTF-8 bytes of every string of a serialized dense array of
/// strings, in order, and returns how many there were; `None` if `buf` is anything
/// else (nothing is promised about the calls made before that is noticed).
pub fn for_each_string(buf: &[u8], mut each: impl FnMut(&[u8])) -> Option<usize> {
    let mut r = Reader { buf, at: 0 };
    if r.byte()? != VERSION_TAG || !VERSIONS.contains(&r.varint()?) {
        return None;
    }
    if r.byte()? != DENSE_ARRAY {
        return None;
    }
    let len = usize::try_from(r.varint()?).ok()?;
    for _ in 0..len {
        let mut tag = r.byte()?;
        while tag == PADDING {
            tag = r.byte()?;
        }
        match tag {
            ONE_BYTE_STRING => {
                let n = r.varint()?;
                each(&latin1_to_utf8(r.bytes(n)?));
            }
            TWO_BYTE_STRING => {
                let n = r.varint()?;
                each(&utf16le_to_utf8(r.bytes(n)?)?);
            }
            _ => return None,
        }
    }
    // The end tag, no extra properties, the same length, and nothing after it.
    let done = r.byte()? == END_DENSE_ARRAY
        && r.varint()? == 0
        && r.varint()? == len as u64
        && r.at == buf.len();
    done.then_some(len)
}
