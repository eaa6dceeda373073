//! Randomness from the OS for protocol seeds and codec sessions.

use std::io;

/// 64 random bits from the OS (`getrandom`).
pub(crate) fn random_u64() -> io::Result<u64> {
    let mut b = [0u8; 8];
    let mut filled = 0;
    while filled < b.len() {
        let n = rustix::rand::getrandom(&mut b[filled..], rustix::rand::GetRandomFlags::empty())?;
        filled += n;
    }
    Ok(u64::from_le_bytes(b))
}
