//! Measurements in a process of their own (this executable again), so that the threads,
//! descriptors, memory and CPU they read are the measured reader's only.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const RESULT: &str = "BENCH-RESULT ";

/// Runs this executable with `key=spec` and returns the result it printed, if any.
pub fn run<T: DeserializeOwned>(key: &str, spec: &str) -> Option<T> {
    let child = Command::new(std::env::current_exe().expect("own path"))
        .env(key, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the measuring child starts");
    let output = child.wait_with_output().expect("the measuring child ends");
    BufReader::new(output.stdout.as_slice())
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let json = line.strip_prefix(RESULT)?.to_owned();
            Some(serde_json::from_str(&json).expect("a result line"))
        })
}

/// In the child: if this process was started with `key`, measures with its spec, prints the
/// result and returns true.
pub fn serve<T: Serialize>(key: &str, measure: impl FnOnce(&str) -> T) -> bool {
    let Ok(spec) = std::env::var(key) else {
        return false;
    };
    let result = measure(&spec);
    println!(
        "{RESULT}{}",
        serde_json::to_string(&result).expect("serialisable")
    );
    true
}
