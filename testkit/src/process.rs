//! Figures of a process from `/proc` (Linux): threads, open file descriptors, memory, CPU.

use std::time::Duration;

/// Threads of process `pid` (`None`: this process).
pub fn thread_count(pid: Option<u32>) -> usize {
    std::fs::read_dir(proc_dir(pid).join("task")).map_or(0, |d| d.count())
}

/// Open file descriptors of process `pid` (`None`: this process).
pub fn fd_count(pid: Option<u32>) -> usize {
    std::fs::read_dir(proc_dir(pid).join("fd")).map_or(0, |d| d.count())
}

/// This process's threads by name and its open descriptors by target, for a failure message
/// that has to say what a count is made of.
pub fn process_inventory() -> String {
    let entries = |dir: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map_or_else(|_| Vec::new(), |d| d.flatten().map(|e| e.path()).collect())
    };
    let threads: Vec<String> = entries("/proc/self/task")
        .iter()
        .filter_map(|t| std::fs::read_to_string(t.join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect();
    let fds: Vec<String> = entries("/proc/self/fd")
        .iter()
        .filter_map(|fd| std::fs::read_link(fd).ok())
        .map(|target| target.display().to_string())
        .collect();
    format!("threads {threads:?}, descriptors {fds:?}")
}

/// Returns the allocator's free pages to the system (glibc's `malloc_trim`), so that a
/// following [`rss_bytes`] of this process measures live memory rather than how fragmented
/// the heap happens to be after many threads came and went. Does nothing elsewhere.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free memory of the allocator; it takes no pointer.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Resident set size in bytes of process `pid` (`None`: this process).
pub fn rss_bytes(pid: Option<u32>) -> u64 {
    let status = std::fs::read_to_string(proc_dir(pid).join("status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) used so far by process `pid` (`None`: this process), children
/// that were waited for excluded.
pub fn cpu_time(pid: Option<u32>) -> Duration {
    let stat = std::fs::read_to_string(proc_dir(pid).join("stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start behind the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after the name.
    let total = ticks(11) + ticks(12);
    Duration::from_secs_f64(total as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux architecture this project runs on.
    100.0
}

fn proc_dir(pid: Option<u32>) -> std::path::PathBuf {
    match pid {
        Some(pid) => format!("/proc/{pid}").into(),
        None => "/proc/self".into(),
    }
}
