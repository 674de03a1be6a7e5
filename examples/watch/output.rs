//! What `watch` prints: JSON lines for scripts, or a live status line for people.

use rtsp_stream::raw::one_line;
use rtsp_stream::{CameraTime, DisconnectReason, Event, Notice, Stats, StreamProps};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// An event as a JSON object, `None` for events `watch` reports itself (stopped).
pub fn event_json(event: &Event, backend: &str) -> Option<Value> {
    let t = now();
    let size = |p: &StreamProps| (p.width, p.height, p.fps);
    Some(match event {
        Event::Connecting { attempt, .. } => {
            json!({"t": t, "event": "connecting", "attempt": attempt, "backend": backend})
        }
        Event::Connected { props, .. } => {
            let (w, h, fps) = size(props);
            json!({"t": t, "event": "connected", "width": w, "height": h, "fps": fps, "backend": backend})
        }
        Event::FirstFrame {
            width,
            height,
            after,
        } => json!({
            "t": t, "event": "first_frame", "width": width, "height": height,
            "after_s": after.as_secs_f64()
        }),
        Event::Stalled { after } => json!({
            "t": t, "event": "stalled", "reason": format!("no frame for {:.1} s", after.as_secs_f64())
        }),
        Event::Disconnected { reason } => {
            json!({"t": t, "event": "disconnected", "reason": reason_text(reason)})
        }
        Event::BackingOff { failures, delay } => json!({
            "t": t, "event": "backing_off", "attempt": failures + 1, "delay_s": delay.as_secs_f64()
        }),
        Event::GaveUp { error } => {
            json!({"t": t, "event": "gave_up", "reason": error.to_string()})
        }
        Event::ResolutionChanged { props } => {
            let (w, h, fps) = size(props);
            json!({"t": t, "event": "resolution_changed", "width": w, "height": h, "fps": fps})
        }
        Event::Notice(Notice::TransportFallback { from, to }) => json!({
            "t": t, "event": "transport_fallback", "reason": format!("the server refused {from}, using {to}")
        }),
        Event::Notice(Notice::ClockStep { by, backwards }) => json!({
            "t": t, "event": "clock_step", "by_s": if *backwards { -by.as_secs_f64() } else { by.as_secs_f64() }
        }),
        Event::Notice(Notice::SenderReportsIgnored) => json!({
            "t": t, "event": "sender_reports_ignored"
        }),
        Event::EndOfStream => json!({"t": t, "event": "end_of_stream"}),
        _ => return None,
    })
}

fn reason_text(reason: &DisconnectReason) -> String {
    reason.to_string()
}

/// The stats line of a camera, with its newest frame's age and camera time (Unix seconds, or
/// null before the camera's first sender report) and how that was obtained.
pub fn stats_json(
    stats: &Stats,
    size: (u32, u32),
    age: Option<Duration>,
    camera_time: Option<CameraTime>,
) -> Value {
    let camera_seconds = camera_time
        .and_then(|c| c.at.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    json!({
        "t": now(),
        "event": "stats",
        "state": stats.state.name(),
        "frames": stats.frames_decoded,
        "fps": (stats.measured_fps * 10.0).round() / 10.0,
        "width": size.0,
        "height": size.1,
        "reconnects": stats.reconnects,
        "seq": stats.last_seq,
        "age_ms": age.map(|a| a.as_millis() as u64),
        "camera_time": camera_seconds,
        "camera_time_source": camera_time.map(|c| c.source.name()),
        "camera_clock_offset_s": stats.camera_clock_offset,
    })
}

/// The object with the camera's name added: every JSON line says which camera it is about.
pub fn with_camera(mut line: Value, name: &str) -> Value {
    line["camera"] = json!(name);
    line
}

pub fn stopped_json(stop: Duration) -> Value {
    json!({"t": now(), "event": "stopped", "stop_ms": stop.as_secs_f64() * 1000.0})
}

/// Writes lines to stdout; in live mode keeps one status line at the bottom, redrawn in place.
pub struct Printer {
    live: bool,
    status_shown: bool,
    /// Lines of the status shown now (one per camera).
    status_lines: usize,
}

impl Printer {
    pub fn new(live: bool) -> Printer {
        Printer {
            live,
            status_shown: false,
            status_lines: 0,
        }
    }

    /// A line that stays (an event, or JSON).
    pub fn line(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.status_shown {
            // The status block goes; it is drawn again below the new line.
            if self.status_lines > 1 {
                let _ = write!(out, "\x1b[{}A", self.status_lines - 1);
            }
            let _ = write!(out, "\r\x1b[J");
            self.status_shown = false;
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// The status, one line per camera: redrawn in place when live, else plain lines.
    pub fn status(&mut self, lines: &[String]) {
        if !self.live {
            for line in lines {
                self.line(line);
            }
            return;
        }
        let mut out = std::io::stdout().lock();
        // Back to the first line of the previous status, then each line cleared and drawn.
        if self.status_shown && self.status_lines > 1 {
            let _ = write!(out, "\x1b[{}A", self.status_lines - 1);
        }
        let _ = write!(out, "\r");
        for (i, line) in lines.iter().enumerate() {
            let end = if i + 1 < lines.len() { "\n" } else { "" };
            let _ = write!(out, "\x1b[2K{line}{end}");
        }
        let _ = out.flush();
        self.status_shown = !lines.is_empty();
        self.status_lines = lines.len();
    }

    pub fn finish(&mut self) {
        if self.status_shown {
            println!();
            self.status_shown = false;
        }
    }
}

/// One line for people: what happened, in words. Text a camera supplied (an error, a codec
/// name) is escaped: a camera cannot move the cursor or start a line of its own.
pub fn event_text(event: &Event) -> Option<String> {
    event_words(event).map(|text| one_line(&text).into_owned())
}

fn event_words(event: &Event) -> Option<String> {
    Some(match event {
        Event::Connecting { attempt, .. } => format!("connecting (attempt {attempt})"),
        Event::Connected { props, .. } => format!(
            "connected: {} {}",
            props.codec.as_deref().unwrap_or("?"),
            props
                .fps
                .map_or_else(|| "fps unknown".into(), |f| format!("{f:.1} fps"))
        ),
        Event::FirstFrame {
            width,
            height,
            after,
        } => {
            format!(
                "first frame {width}x{height} after {:.2} s",
                after.as_secs_f64()
            )
        }
        Event::Stalled { after } => format!("stalled: no frame for {:.1} s", after.as_secs_f64()),
        Event::Disconnected { reason } => format!("disconnected: {reason}"),
        Event::BackingOff { failures, delay } => format!(
            "reconnecting in {:.1} s ({failures} failed attempt(s) in a row)",
            delay.as_secs_f64()
        ),
        Event::GaveUp { error } => format!("gave up: {error}"),
        Event::ResolutionChanged { props } => {
            format!("resolution changed to {}x{}", props.width, props.height)
        }
        Event::Notice(Notice::TransportFallback { from, to }) => {
            format!("the server refused {from}: using {to}")
        }
        Event::Notice(Notice::ClockStep { by, backwards }) => format!(
            "the camera's clock stepped {} by {:.3} s",
            if *backwards { "back" } else { "forward" },
            by.as_secs_f64()
        ),
        Event::Notice(Notice::SenderReportsIgnored) => {
            "the camera's sender reports carry no usable time: no camera time".into()
        }
        Event::EndOfStream => "end of stream".into(),
        _ => return None,
    })
}

/// The status line of a camera, camera-supplied text escaped (see [`event_text`]).
pub fn status_text(stats: &Stats, size: (u32, u32), age: Option<Duration>) -> String {
    one_line(&status_words(stats, size, age)).into_owned()
}

fn status_words(stats: &Stats, size: (u32, u32), age: Option<Duration>) -> String {
    let age = age.map_or_else(|| "–".into(), |a| format!("{} ms", a.as_millis()));
    let error = stats
        .last_error
        .as_ref()
        .map_or_else(String::new, |e| format!(" | last error: {e}"));
    format!(
        "{:<12} {}x{} {:>5.1} fps | frames {} | reconnects {} | newest frame {age}{error}",
        stats.state.name(),
        size.0,
        size.1,
        stats.measured_fps,
        stats.frames_decoded,
        stats.reconnects,
    )
}
