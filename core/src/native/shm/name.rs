//! Segment names: which names a user may give, and the POSIX name each maps to.
//!
//! A user name such as `"orders"` or `"swarm-1.bus"` is 1 to [`MAX_NAME_LEN`] bytes of
//! `[A-Za-z0-9._-]` and does not start with `.`; the shared-memory object it names is
//! [`OS_PREFIX`] followed by the name (`"/shoal-orders"`, which Linux shows as
//! `/dev/shm/shoal-orders`). The prefix keeps shoal's objects apart from everyone else's
//! in the host-wide shared-memory namespace.
//!
//! This module only checks and maps names; it never touches the OS.

use alloc::format;
use alloc::string::String;
use std::io;

/// Longest user name, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// What every shoal shared-memory object's POSIX name starts with.
pub const OS_PREFIX: &str = "/shoal-";

/// Checks a user-given segment name.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] when the name is empty, longer than
/// [`MAX_NAME_LEN`] bytes, starts with `.`, or holds a byte outside `[A-Za-z0-9._-]`;
/// the message says which rule was broken.
pub fn validate_name(name: &str) -> io::Result<()> {
    let invalid = |why: String| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid shared-memory segment name {name:?}: {why}"),
        ))
    };
    if name.is_empty() {
        return invalid(String::from("it is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return invalid(format!(
            "it is {} bytes long, at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return invalid(String::from("it starts with '.'"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return invalid(format!(
            "character {c:?} is not allowed (only A-Z, a-z, 0-9, '.', '_' and '-')"
        ));
    }
    Ok(())
}

/// The POSIX shared-memory name for a user name: [`OS_PREFIX`] + `name`.
///
/// # Errors
///
/// As [`validate_name`].
pub fn os_name(name: &str) -> io::Result<String> {
    validate_name(name)?;
    let mut os = String::with_capacity(OS_PREFIX.len() + name.len());
    os.push_str(OS_PREFIX);
    os.push_str(name);
    Ok(os)
}
