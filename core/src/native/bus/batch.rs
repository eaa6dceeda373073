//! The format of a batch: many small messages packed into one pool buffer so that one
//! descriptor carries them all.
//!
//! A batch is a sequence of records, each `len: u32` (little-endian) followed by `len`
//! bytes, padded to a multiple of 8 so every record (and its message) starts 8-aligned.
//! The descriptor's length is the number of bytes used. Reading never trusts the
//! contents: a record that runs past the end is [`BatchError`], not a panic.

/// Descriptor flag: the buffer is a batch of records.
pub(crate) const FLAG_BATCH: u8 = 1;

/// Largest batch buffer (one 64 KiB slot).
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Bytes a record of `len` bytes takes in a batch.
pub(crate) fn record_size(len: usize) -> usize {
    (4 + len + 7) & !7
}

/// Writes a record at `at` in `buf`; returns the offset after it. The caller checked
/// that `record_size(data.len())` bytes are free.
pub(crate) fn write_record(buf: &mut [u8], at: usize, data: &[u8]) -> usize {
    buf[at..at + 4].copy_from_slice(&(data.len() as u32).to_le_bytes());
    buf[at + 4..at + 4 + data.len()].copy_from_slice(data);
    at + record_size(data.len())
}

/// A record that does not fit in its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchError;

/// Reads the record at `at` of a batch `used` bytes long: its message's range and the
/// offset of the next record.
pub(crate) fn read_record(
    buf: &[u8],
    at: usize,
) -> Result<(core::ops::Range<usize>, usize), BatchError> {
    let header = buf
        .get(at..at.checked_add(4).ok_or(BatchError)?)
        .ok_or(BatchError)?;
    let len = u32::from_le_bytes(header.try_into().map_err(|_| BatchError)?) as usize;
    let start = at + 4;
    let end = start.checked_add(len).ok_or(BatchError)?;
    if end > buf.len() {
        return Err(BatchError);
    }
    let next = (end + 7) & !7;
    Ok((start..end, next.min(buf.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_stay_aligned() {
        let mut buf = [0u8; 128];
        let mut at = 0;
        for msg in [&b"a"[..], b"", b"hello world", &[7u8; 20]] {
            assert_eq!(at % 8, 0);
            at = write_record(&mut buf, at, msg);
        }
        let used = &buf[..at];
        let mut got = std::vec::Vec::new();
        let mut pos = 0;
        while pos < used.len() {
            let (range, next) = read_record(used, pos).unwrap();
            got.push(used[range].to_vec());
            pos = next;
        }
        assert_eq!(
            got,
            [
                b"a".to_vec(),
                b"".to_vec(),
                b"hello world".to_vec(),
                [7u8; 20].to_vec()
            ]
        );
    }

    #[test]
    fn a_record_running_past_the_end_is_an_error() {
        let mut buf = [0u8; 16];
        buf[..4].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(read_record(&buf, 0), Err(BatchError));
        assert_eq!(read_record(&buf, 14), Err(BatchError));
        assert_eq!(read_record(&buf, usize::MAX - 1), Err(BatchError));
        assert_eq!(record_size(0), 8);
        assert_eq!(record_size(4), 8);
        assert_eq!(record_size(5), 16);
    }
}
