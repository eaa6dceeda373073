//! The system page size, read once from the process's auxiliary vector.
//!
//! Segments are sized in whole pages; this module only answers "how big is a page".

use std::sync::OnceLock;

/// `AT_PAGESZ` in the ELF auxiliary vector.
const AT_PAGESZ: usize = 6;

/// Page size assumed if `/proc/self/auxv` cannot be read (the size on x86-64 and most
/// other Linux targets).
const FALLBACK: usize = 4096;

/// The size of a memory page in bytes (a power of two).
///
/// Read from `AT_PAGESZ` in `/proc/self/auxv` on first use and cached; if that cannot be
/// read, 4096.
pub fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| read_auxv().unwrap_or(FALLBACK))
}

/// `AT_PAGESZ` from `/proc/self/auxv`: native-endian (type, value) word pairs.
fn read_auxv() -> Option<usize> {
    const WORD: usize = core::mem::size_of::<usize>();
    let bytes = std::fs::read("/proc/self/auxv").ok()?;
    let word =
        |chunk: &[u8]| -> Option<usize> { Some(usize::from_ne_bytes(chunk.try_into().ok()?)) };
    bytes.chunks_exact(2 * WORD).find_map(|pair| {
        let (key, value) = pair.split_at(WORD);
        match word(key)? {
            AT_PAGESZ => word(value).filter(|p| p.is_power_of_two()),
            _ => None,
        }
    })
}
