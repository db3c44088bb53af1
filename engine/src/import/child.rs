//! One step of an import as a child process: its output read line by line as it comes, killed at
//! once when the import is cancelled.

use super::ImportError;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What a finished step said.
pub struct StepOutput {
    pub success: bool,
    /// stdout and stderr, interleaved as they arrived (kept for the error message and the log).
    pub lines: Vec<String>,
}

impl StepOutput {
    /// The last `n` lines, for an error message.
    pub fn tail(&self, n: usize) -> String {
        let start = self.lines.len().saturating_sub(n);
        self.lines[start..].join("\n")
    }
}

/// Runs `cmd`, handing each output line to `on_line`; `Err(Cancelled)` (the child killed) as soon as
/// `cancel` is set. `what` names the program in the message when it cannot be started.
pub fn run(
    mut cmd: Command,
    what: &str,
    cancel: &AtomicBool,
    on_line: &mut dyn FnMut(&str),
) -> Result<StepOutput, ImportError> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| ImportError::Failed(format!("cannot start {what} ({e})")))?;
    let (tx, rx) = crossbeam_channel::unbounded::<String>();
    // Two readers so that neither pipe fills and stalls the child.
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);
    let mut lines = Vec::new();
    let mut take = |line: String, lines: &mut Vec<String>| {
        on_line(&line);
        lines.push(line);
    };
    loop {
        if cancel.load(Ordering::Relaxed) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ImportError::Cancelled);
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => take(line, &mut lines),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Both pipes are closed: the child has exited or is about to.
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| ImportError::Failed(format!("{what}: {e}")))? {
            break status;
        }
        if cancel.load(Ordering::Relaxed) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ImportError::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for r in readers {
        let _ = r.join();
    }
    Ok(StepOutput { success: status.success(), lines })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn lines_arrive_and_failure_is_reported() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two >&2; exit 3"]);
        let mut seen = Vec::new();
        let out = run(cmd, "sh", &AtomicBool::new(false), &mut |l| seen.push(l.to_string())).unwrap();
        assert!(!out.success);
        seen.sort();
        assert_eq!(seen, ["one", "two"]);
    }

    #[test]
    fn cancel_kills_the_child_at_once() {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::Relaxed);
        });
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = std::time::Instant::now();
        let result = run(cmd, "sleep", &cancel, &mut |_| {});
        assert!(matches!(result, Err(ImportError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_named() {
        let cmd = Command::new("/nonexistent/python3");
        let err = run(cmd, "Python", &AtomicBool::new(false), &mut |_| {}).err().unwrap();
        assert!(err.to_string().contains("cannot start Python"), "{err}");
    }
}
