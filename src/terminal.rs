//! Following a job on the terminal: the command line runs the same jobs as the window and draws
//! their shared progress as an indicatif bar on stderr.

use std::time::Instant;

use anyhow::Context;

use crate::jobs::{JobError, JobHandle};

/// Waits for a job while drawing a terminal progress bar (on stderr) from its shared state.
pub fn wait_with_progress<T>(mut handle: JobHandle<T>) -> anyhow::Result<T> {
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40}] {percent:>3}% {msg} (ETA {eta})",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    bar.set_prefix(handle.shared().name.clone());
    let started = Instant::now();
    let result = loop {
        if let Some(result) = handle.try_take() {
            break result;
        }
        let progress = handle.shared().with_state(|s| s.progress.clone());
        bar.set_position((progress.fraction * 1000.0) as u64);
        let mut msg = progress.message.clone();
        if let Some(loss) = progress.loss {
            msg.push_str(&format!(" loss {loss:.4}"));
        }
        bar.set_message(msg);
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    bar.finish_and_clear();
    // Logged as the command line's, as before this module was split from cli.rs.
    log::info!(
        target: "inference_lab::cli",
        "{} finished in {:.1} s",
        handle.shared().name,
        started.elapsed().as_secs_f64()
    );
    result.map_err(|e| match e {
        JobError::Cancelled => anyhow::anyhow!("cancelled"),
        JobError::Failed(msg) => anyhow::anyhow!(msg),
    })
}

/// Whether the user asked for backtraces (`RUST_BACKTRACE` set and not `0`).
fn backtraces_wanted() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}

/// A panic that escapes a command-line action becomes one line on stderr naming the command
/// (its input files included) instead of Rust's report and backtrace; with `RUST_BACKTRACE=1`
/// Rust's own report stays. A panic inside a job is not printed here: the job turns it into
/// its error, which the command prints.
pub fn report_panics_in_one_line(command_line: String) {
    if backtraces_wanted() {
        return;
    }
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with("job: "))
        {
            return;
        }
        let place = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: `{command_line}` stopped on an internal error: {}{place}; this is a bug \
             (RUST_BACKTRACE=1 shows where it happened)",
            // One line: burn's messages span several.
            crate::jobs::panic_text(info.payload())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }));
}
