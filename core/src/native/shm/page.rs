//! The system page size. Segments are sized in whole pages; this module only answers
//! "how big is a page".

/// The size of a memory page in bytes (a power of two), from `rustix::param`.
pub fn page_size() -> usize {
    rustix::param::page_size()
}
