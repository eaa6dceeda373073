//! Optional LZ4 compression of single messages (lz4_flex block format).
//!
//! A compressed message's buffer holds the original length (u32, little-endian) and
//! then the LZ4 block; its descriptor carries [`FLAG_LZ4`]. The receiver decompresses
//! into a fresh pool buffer of its own, so a compressed message costs one copy on each
//! side and is worth it only when the bytes compress well and the link is the limit
//! (for example when relayed between hosts).

use super::error::BusError;

/// Descriptor flag: the buffer is `original length | LZ4 block`.
pub(crate) const FLAG_LZ4: u8 = 4;

/// Bytes needed to compress `len` bytes in the worst case.
pub(crate) fn max_compressed(len: usize) -> usize {
    4 + lz4_flex::block::get_maximum_output_size(len)
}

/// Compresses `data` into `out` (at least [`max_compressed`] long); returns bytes used.
pub(crate) fn compress(data: &[u8], out: &mut [u8]) -> Result<usize, BusError> {
    let len = u32::try_from(data.len())
        .map_err(|_| BusError::InvalidConfig("a compressed message must be under 4 GiB".into()))?;
    out[..4].copy_from_slice(&len.to_le_bytes());
    let n = lz4_flex::block::compress_into(data, &mut out[4..])
        .map_err(|_| BusError::Corrupt("LZ4 output buffer too small"))?;
    Ok(4 + n)
}

/// The original length a compressed buffer announces.
pub(crate) fn original_len(buf: &[u8]) -> Result<usize, BusError> {
    let head = buf.get(..4).ok_or(BusError::Corrupt(
        "compressed message shorter than its header",
    ))?;
    Ok(u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize)
}

/// Decompresses `buf` into `out`, which must be exactly the original length.
pub(crate) fn decompress(buf: &[u8], out: &mut [u8]) -> Result<(), BusError> {
    match lz4_flex::block::decompress_into(&buf[4..], out) {
        Ok(n) if n == out.len() => Ok(()),
        _ => Err(BusError::Corrupt(
            "compressed message does not decompress to its length",
        )),
    }
}
