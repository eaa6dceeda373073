//! [`Segment`]: one POSIX shared-memory object, mapped read-write and shared.
//!
//! This file creates, opens, maps and unlinks objects by name. It does not decide when a
//! segment may be unlinked (that is the bus's policy) nor what lives inside it (that is
//! the pool's and the bus's layout).

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::ptr::NonNull;
use std::io;

use memmap2::{MmapOptions, MmapRaw};
use rustix::fd::OwnedFd;
use rustix::fs::{FileType, Mode};
use rustix::io::Errno;
use rustix::shm;

use super::name::os_name;
use super::page::page_size;

/// Permissions of every segment: read and write for the owner only.
const MODE: u32 = 0o600;

/// A POSIX shared-memory object mapped read-write and shared (`MAP_SHARED`) into this
/// process: writes through one mapping are seen by every other mapping of the same
/// name, in this process or another.
///
/// Names are user names such as `"orders"`; the object is `/shoal-<name>` (see
/// [`validate_name`](super::validate_name) for the rules). Objects are created with
/// mode 0600, so only processes of the same user can open them.
///
/// The mapping starts on a page boundary, is a whole number of pages long and stays
/// valid until the `Segment` is dropped. Dropping unmaps it but **never unlinks the
/// name**: when a name may be removed (no process uses it any more) is the bus's
/// decision, made through [`Segment::unlink`].
///
/// `Segment` is `Send` and `Sync`: it hands out only a raw pointer, and what is stored
/// at that pointer — and how concurrent access to it is synchronised — is the caller's
/// layout.
pub struct Segment {
    name: String,
    base: NonNull<u8>,
    map: MmapRaw,
}

// SAFETY: `base` points into `map`, which is `Send` and `Sync` and lives as long as the
// `Segment`; the `Segment` itself never reads or writes through `base`, so sharing or
// moving it between threads adds no data race (accesses through `as_ptr` are the
// caller's, under the caller's synchronisation).
unsafe impl Send for Segment {}
// SAFETY: as for `Send`.
unsafe impl Sync for Segment {}

impl Segment {
    /// Creates the segment `name` with at least `size` bytes (rounded up to whole pages),
    /// zero-filled, and maps it.
    ///
    /// # Errors
    ///
    /// * [`io::ErrorKind::InvalidInput`] for an invalid name, a `size` of 0, or a size
    ///   too large to round up to pages;
    /// * [`io::ErrorKind::AlreadyExists`] if a segment of that name exists;
    /// * any other OS error while creating, sizing or mapping it. If anything fails after
    ///   the object was created, the name is unlinked again before returning.
    pub fn create(name: &str, size: usize) -> io::Result<Segment> {
        let os = os_name(name)?;
        let page = page_size();
        let len = match size.checked_next_multiple_of(page) {
            Some(len) if len > 0 => len,
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("cannot create shared-memory segment {name:?} with a size of 0 bytes"),
                ))
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "cannot create shared-memory segment {name:?}: {size} bytes do not \
                         round up to whole {page}-byte pages"
                    ),
                ))
            }
        };
        let fd = shm::open(
            os.as_str(),
            shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
            Mode::from_raw_mode(MODE),
        )
        .map_err(|e| match e {
            Errno::EXIST => io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("shared-memory segment {name:?} ({os}) already exists"),
            ),
            e => os_error(
                e,
                format!("cannot create shared-memory segment {name:?} ({os})"),
            ),
        })?;
        match Self::size_and_map(name, &fd, len) {
            Ok(segment) => Ok(segment),
            Err(e) => {
                // Never leave a half-made segment behind. The O_EXCL open above proves
                // the name is ours; if the unlink itself fails there is nothing better to
                // report than the original error.
                let _ = shm::unlink(os.as_str());
                Err(e)
            }
        }
    }

    /// The part of [`create`](Self::create) after the object exists: mode, size, mapping.
    fn size_and_map(name: &str, fd: &OwnedFd, len: usize) -> io::Result<Segment> {
        // The umask may have removed bits from the requested mode, never added any; set
        // it exactly so every segment is 0600 whatever the umask.
        rustix::fs::fchmod(fd, Mode::from_raw_mode(MODE)).map_err(|e| {
            os_error(
                e,
                format!("cannot set mode 0600 on shared-memory segment {name:?}"),
            )
        })?;
        let len64 = u64::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shared-memory segment {name:?}: {len} bytes is too large"),
            )
        })?;
        rustix::fs::ftruncate(fd, len64).map_err(|e| {
            os_error(
                e,
                format!("cannot size shared-memory segment {name:?} to {len} bytes"),
            )
        })?;
        Self::map(name, fd, len)
    }

    /// Opens and maps the existing segment `name`, whatever its size.
    ///
    /// # Errors
    ///
    /// * [`io::ErrorKind::InvalidInput`] for an invalid name;
    /// * [`io::ErrorKind::NotFound`] if no segment has that name;
    /// * [`io::ErrorKind::InvalidData`] if its size is 0 or not a whole number of pages
    ///   (its creator has not sized it yet, or it was not made by [`Segment::create`]),
    ///   or if it is not a regular shared-memory object;
    /// * [`io::ErrorKind::PermissionDenied`] if it belongs to another user;
    /// * any other OS error while opening or mapping it.
    pub fn open(name: &str) -> io::Result<Segment> {
        let os = os_name(name)?;
        let fd = shm::open(os.as_str(), shm::OFlags::RDWR, Mode::empty()).map_err(|e| match e {
            Errno::NOENT => io::Error::new(
                io::ErrorKind::NotFound,
                format!("no shared-memory segment {name:?} ({os})"),
            ),
            e => os_error(
                e,
                format!("cannot open shared-memory segment {name:?} ({os})"),
            ),
        })?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| {
            os_error(
                e,
                format!("cannot stat shared-memory segment {name:?} ({os})"),
            )
        })?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("shared-memory segment {name:?} ({os}) is not a regular object"),
            ));
        }
        let euid = rustix::process::geteuid().as_raw();
        if stat.st_uid != euid {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "shared-memory segment {name:?} ({os}) belongs to uid {}, not to this \
                     process's uid {euid}",
                    stat.st_uid
                ),
            ));
        }
        let page = page_size();
        let len = usize::try_from(stat.st_size)
            .ok()
            .filter(|&len| len > 0 && len % page == 0)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "shared-memory segment {name:?} ({os}) is being created or is damaged: \
                         its size is {} bytes, not a positive multiple of the {page}-byte page",
                        stat.st_size
                    ),
                )
            })?;
        Self::map(name, &fd, len)
    }

    /// Maps `len` bytes of `fd` read-write and shared.
    fn map(name: &str, fd: &OwnedFd, len: usize) -> io::Result<Segment> {
        let map = MmapOptions::new().len(len).map_raw(fd).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot map {len} bytes of shared-memory segment {name:?}: {e}"),
            )
        })?;
        let base = NonNull::new(map.as_mut_ptr()).ok_or_else(|| {
            io::Error::other(format!(
                "mapping shared-memory segment {name:?} returned a null address"
            ))
        })?;
        // The descriptor is closed when `fd` drops; the mapping stays valid without it.
        Ok(Segment {
            name: String::from(name),
            base,
            map,
        })
    }

    /// Removes the name `name`. Processes that have the segment mapped keep their
    /// mappings; the memory is freed when the last one is dropped. A later
    /// [`create`](Self::create) of the same name makes a new, unrelated segment.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for an invalid name, [`io::ErrorKind::NotFound`]
    /// if no segment has that name, or the OS error.
    pub fn unlink(name: &str) -> io::Result<()> {
        let os = os_name(name)?;
        shm::unlink(os.as_str()).map_err(|e| match e {
            Errno::NOENT => io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot unlink shared-memory segment {name:?} ({os}): it does not exist"),
            ),
            e => os_error(
                e,
                format!("cannot unlink shared-memory segment {name:?} ({os})"),
            ),
        })
    }

    /// Whether a segment named `name` exists (false for an invalid name). The answer may
    /// be stale by the time it is used; [`create`](Self::create) and
    /// [`open`](Self::open) report the authoritative result.
    pub fn exists(name: &str) -> bool {
        let Ok(os) = os_name(name) else {
            return false;
        };
        match shm::open(os.as_str(), shm::OFlags::RDONLY, Mode::empty()) {
            Ok(_) | Err(Errno::ACCESS) => true,
            Err(_) => false,
        }
    }

    /// The user name this segment was created or opened with (without the `/shoal-`
    /// prefix).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Length of the mapping in bytes: a positive multiple of the page size.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Always false: a segment is at least one page long. (Present because
    /// [`len`](Self::len) is.)
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Page-aligned base address of the mapping in this process; valid for
    /// [`len`](Self::len) bytes until the `Segment` is dropped. Other mappings of the same
    /// segment (in this or other processes) usually have other addresses, so anything
    /// stored inside should be addressed by offset.
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.base
    }
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("base", &self.base)
            .finish()
    }
}

/// An OS error with `context` in front of it, keeping its [`io::ErrorKind`].
fn os_error(errno: Errno, context: String) -> io::Error {
    let e = io::Error::from(errno);
    io::Error::new(e.kind(), format!("{context}: {e}"))
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn segment_is_send_and_sync() {
        assert_send_sync::<super::Segment>();
    }
}
