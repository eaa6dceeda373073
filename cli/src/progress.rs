//! Progress bars for long runs (drawn on stderr, hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar with `len` steps and a message.
pub fn bar(len: u64, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>24} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_message(msg.to_owned());
    pb
}
