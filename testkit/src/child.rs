//! A helper process: the current executable re-run to serve something on a port, so that
//! what it costs does not count against the process being measured.

use crate::TestkitError;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY: &str = "TESTKIT-CHILD-READY ";

/// A child serving on a port of 127.0.0.1. It exits when its standard input closes, so it
/// cannot outlive the parent; dropping this handle closes it and, after 2 s, kills it.
pub(crate) struct ServingChild {
    child: Child,
    port: u16,
}

impl ServingChild {
    /// Runs the current executable with `args` and `env_key=spec`, and waits for the line
    /// that gives its port.
    pub(crate) fn spawn(env_key: &str, spec: &str, args: &[&str]) -> Result<Self, TestkitError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .env(env_key, spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    // The test harness may have started a line of its own ("test name ...").
                    if let Some((_, port)) = line.split_once(READY) {
                        break port
                            .trim()
                            .parse::<u16>()
                            .map_err(|e| TestkitError(e.to_string()))?;
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(TestkitError(
                        "the helper process ended before it was ready".into(),
                    ));
                }
            }
        };
        Ok(ServingChild { child, port })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServingChild {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the child: announces `port`, serves until standard input closes, then exits.
pub(crate) fn serve_until_stdin_closes(port: u16) -> ! {
    println!("\n{READY}{port}");
    let _ = std::io::stdout().flush();
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    std::process::exit(0);
}
