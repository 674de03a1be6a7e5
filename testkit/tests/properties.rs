//! The property tests of camera and user input, with the fixed seeds of a CI run (see
//! `rtsp_stream_testkit::properties`). `PROPERTY_CASES` multiplies the cases;
//! `examples/benchmark --properties` runs the scrubber's with fresh seeds.

use proptest::prelude::*;
use rtsp_stream_testkit::properties::{CI_SEEDS, check, lines, numbers, scrubber};

fn cases(base: u32) -> u32 {
    let factor = std::env::var("PROPERTY_CASES_FACTOR")
        .ok()
        .and_then(|f| f.parse::<u32>().ok())
        .unwrap_or(1);
    base.saturating_mul(factor.max(1))
}

fn all_seeds(name: &str, run: impl Fn(u64) -> Result<(), String>) {
    let failures: Vec<String> = CI_SEEDS
        .iter()
        .filter_map(|&seed| run(seed).err())
        .collect();
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn urls_built_from_parts_never_print_a_secret() {
    all_seeds("url", |seed| {
        let strategy = (
            scrubber::url_case(),
            proptest::string::string_regex("[a-z '\"(<未é:=@]{0,6}").unwrap(),
            proptest::string::string_regex("[a-z '\")>未é@=/?#]{0,6}").unwrap(),
        );
        check(
            "url",
            strategy,
            cases(1500),
            seed,
            |(case, prefix, suffix): (scrubber::UrlCase, String, String)| {
                scrubber::check_url(&case, &prefix, &suffix)
            },
        )
    });
}

#[test]
fn inputs_that_once_broke_the_scrubber_stay_fixed() {
    scrubber::check_regressions().unwrap();
}

#[test]
fn secrets_anywhere_in_text_are_removed() {
    all_seeds("text", |seed| {
        check("text", scrubber::text_case(), cases(1500), seed, |case| {
            scrubber::check_text(&case)
        })
    });
}

#[test]
fn every_status_code_has_its_meaning() {
    all_seeds("status", |seed| {
        check(
            "status",
            any::<u16>(),
            cases(2000),
            seed,
            lines::check_status,
        )
    });
    for status in 0..=999 {
        lines::check_status(status).unwrap();
    }
}

#[test]
fn status_reports_are_read_in_any_language() {
    all_seeds("status report", |seed| {
        check(
            "status report",
            lines::status_report(),
            cases(1000),
            seed,
            |(code, reason)| lines::check_status_report(code, &reason),
        )
    });
}

#[test]
fn ffmpeg_log_lines_of_any_bytes_are_scrubbed_on_one_line() {
    all_seeds("log line", |seed| {
        check(
            "log line",
            lines::log_line(),
            cases(1000),
            seed,
            |(level, bytes, at, nl)| lines::check_log_line(level, bytes, at, nl),
        )
    });
}

#[test]
fn time_stamps_rates_and_options_never_panic() {
    all_seeds("ticks", |seed| {
        check("ticks", numbers::ticks(), cases(2000), seed, |(t, n, d)| {
            numbers::check_ticks(t, n, d)
        })
    });
    all_seeds("seconds", |seed| {
        check(
            "seconds",
            any::<f64>(),
            cases(2000),
            seed,
            numbers::check_seconds,
        )
    });
    all_seeds("ratio", |seed| {
        check(
            "ratio",
            (any::<i64>(), any::<i64>()),
            cases(2000),
            seed,
            |(n, d)| numbers::check_ratio(n, d),
        )
    });
    all_seeds("options", |seed| {
        check(
            "options",
            numbers::options(),
            cases(300),
            seed,
            numbers::check_options,
        )
    });
}
