//! `--properties [CASES]`: the scrubber's property tests (URLs built from parts, text with
//! secrets at every position) with fresh seeds, CASES in all (default 1,000,000). A failing
//! seed is printed with the smallest input proptest found; commit it as a regression case.

use rtsp_stream_testkit::properties::{check, scrubber};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Cases per seed: enough to amortise a seed, few enough that a failure names a short run.
const PER_SEED: u32 = 10_000;

pub fn run(cases: u64) -> String {
    let started = Instant::now();
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let (mut done, mut seeds, mut failures) = (0u64, 0u64, Vec::new());
    while done < cases {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seeds += 1;
        let url = check(
            "url",
            url_strategy(),
            PER_SEED,
            seed,
            |(case, prefix, suffix)| scrubber::check_url(&case, &prefix, &suffix),
        );
        let text = check("text", scrubber::text_case(), PER_SEED, seed, |case| {
            scrubber::check_text(&case)
        });
        for failure in [url, text].into_iter().filter_map(Result::err) {
            eprintln!("{failure}");
            failures.push(failure);
        }
        done += 2 * u64::from(PER_SEED);
        if seeds % 10 == 0 {
            eprintln!(
                " {done} cases, {} failing, {:.0} s",
                failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let mut out = format!(
        "Scrubber properties with fresh seeds: {done} cases ({seeds} seeds × {PER_SEED} URLs \
         and {PER_SEED} texts), {} failing, in {:.0} s.\n",
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    for f in &failures {
        out.push_str(&format!("\n- {}", f.replace('\n', "\n  ")));
    }
    out
}

fn url_strategy() -> impl proptest::strategy::Strategy<Value = (scrubber::UrlCase, String, String)>
{
    (
        scrubber::url_case(),
        proptest::string::string_regex("[a-z '\"(<未é:=@]{0,6}").expect("a pattern"),
        proptest::string::string_regex("[a-z '\")>未é@=/?#]{0,6}").expect("a pattern"),
    )
}
