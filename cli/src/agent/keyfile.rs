//! Key files: one 64-hex-digit key per line, the first is the primary (used to seal),
//! the others are accepted too; blank lines and `#` comments are ignored.

use shoal_core::wire::{Key, Keyring};

/// Reads the keyring in `path`.
pub fn read(path: &str) -> Result<Keyring, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read key file {path}: {e}"))?;
    parse(&text).map_err(|e| format!("key file {path}: {e}"))
}

/// Parses a key file's text.
pub fn parse(text: &str) -> Result<Keyring, String> {
    let mut ring: Option<Keyring> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let key = Key::from_hex(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        match ring.as_mut() {
            None => ring = Some(Keyring::new(key)),
            Some(r) => r.add(key).map_err(|e| format!("line {}: {e}", i + 1))?,
        }
    }
    ring.ok_or_else(|| "no key in the file".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_key_is_primary_and_comments_are_ignored() {
        let a = "11".repeat(32);
        let b = "22".repeat(32);
        let ring = parse(&format!("# keys\n{a}\n\n{b}  # next\n")).unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(
            ring.primary().fingerprint(),
            Key::from_hex(&a).unwrap().fingerprint()
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(parse("").unwrap_err().contains("no key"));
        assert!(parse("xyz\n").unwrap_err().contains("line 1"));
    }
}
