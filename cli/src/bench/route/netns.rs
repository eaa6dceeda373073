//! Two network namespaces joined by a veth pair, made for one benchmark run and
//! removed on drop.

use std::process::Command;

/// Two hosts, `a` (10.X.Y.1) and `b` (10.X.Y.2), on one veth link.
pub struct Pair {
    pub a: String,
    pub b: String,
    pub ip_a: String,
    pub ip_b: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Pair {
    /// Makes the namespaces and the link, or says why it cannot (not root, no `ip`,
    /// namespaces not permitted).
    pub fn create() -> Result<Pair, String> {
        let pid = std::process::id();
        let (a, b) = (format!("shoalrt{pid}a"), format!("shoalrt{pid}b"));
        let subnet = format!("10.{}.{}", 200 + (pid >> 8) % 50, pid % 256);
        ip(&["netns", "add", &a])?;
        let pair = Pair {
            a,
            b,
            ip_a: format!("{subnet}.1"),
            ip_b: format!("{subnet}.2"),
        };
        // From here on, drop removes whatever was made.
        ip(&["netns", "add", &pair.b])?;
        ip(&[
            "link", "add", "veth0", "netns", &pair.a, "type", "veth", "peer", "name", "veth0",
            "netns", &pair.b,
        ])?;
        for (ns, addr) in [(&pair.a, &pair.ip_a), (&pair.b, &pair.ip_b)] {
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "veth0",
            ])?;
            ip(&["-n", ns, "link", "set", "veth0", "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(pair)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth, and with it the other.
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
    }
}
