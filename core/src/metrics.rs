//! Statistics in the Prometheus text exposition format (feature `metrics`), through
//! prometheus-client: one series per camera, labelled by its key (never by its URL, which
//! may hold a password).

use crate::group::GroupStats;
use crate::stats::{State, Stats};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::fmt::{Display, Write};
use std::sync::atomic::AtomicU64;

#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
impl<K: Display> GroupStats<K> {
    /// Every camera's statistics in the Prometheus text exposition format (version 0.0.4,
    /// ending in `# EOF`), labelled `camera="<key>"`: what `watch --metrics` serves.
    pub fn to_prometheus(&self) -> String {
        render(self.cameras.iter().map(|(k, s)| (k.to_string(), s)))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
impl Stats {
    /// These statistics in the Prometheus text exposition format, labelled
    /// `camera="<camera>"` (see [`GroupStats::to_prometheus`]).
    pub fn to_prometheus(&self, camera: &str) -> String {
        render(std::iter::once((camera.to_owned(), self)))
    }
}

/// A label value as the exposition format writes it: `\`, `"` and line feeds escaped.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Escaped(String);

impl EncodeLabelValue for Escaped {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Camera {
    camera: Escaped,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CameraState {
    camera: Escaped,
    state: &'static str,
}

type Value = Gauge<f64, AtomicU64>;
type Total = Counter<u64>;
type Seconds = Counter<f64, AtomicU64>;

fn render<'a>(cameras: impl Iterator<Item = (String, &'a Stats)>) -> String {
    let mut registry = Registry::with_prefix("rtsp_stream");
    let mut gauge = |name: &str, help: &str| {
        let family = Family::<Camera, Value>::default();
        registry.register(name, help, family.clone());
        family
    };
    let fps = gauge("delivered_fps", "Frames published a second, measured");
    let decoded_fps = gauge("decoded_fps", "Pictures decoded a second, measured");
    let age = gauge(
        "frame_age_seconds",
        "Time since the newest frame was published",
    );
    let offset = gauge(
        "camera_clock_offset_seconds",
        "Median of camera time minus receive time, where the camera sends its time",
    );
    let mut counter = |name: &str, help: &str| {
        let family = Family::<Camera, Total>::default();
        registry.register(name, help, family.clone());
        family
    };
    let delivered = counter("frames_delivered", "Frames decoded and published");
    let decoded = counter("pictures_decoded", "Pictures decoded, converted or not");
    let reconnects = counter("reconnects", "Reconnection attempts");
    let overwritten = counter(
        "frames_overwritten_unread",
        "Frames replaced before anyone read them",
    );
    let skipped = counter(
        "frames_skipped",
        "Frames not delivered because their data was incomplete (after a loss)",
    );
    let errors = counter("decode_errors", "Frames the decoder could not decode");
    let units = counter(
        "units_skipped",
        "Units the decode mode kept from the decoder",
    );
    let not_converted = counter(
        "frames_not_converted",
        "Pictures decoded over the decode mode's rate, not converted",
    );
    let mut seconds = |name: &str, help: &str| {
        let family = Family::<Camera, Seconds>::default();
        registry.register(name, help, family.clone());
        family
    };
    let decode_time = seconds(
        "decode_seconds",
        "Time spent decoding, where the capture thread decodes",
    );
    let convert_time = seconds("convert_seconds", "Time spent converting pictures");
    let state = Family::<CameraState, Value>::default();
    registry.register("state", "1 for the state the stream is in", state.clone());
    for (key, s) in cameras {
        let camera = Camera {
            camera: Escaped(key),
        };
        fps.get_or_create(&camera).set(s.measured_fps);
        decoded_fps.get_or_create(&camera).set(s.decoded_fps);
        if let Some(since) = s.since_last_frame {
            age.get_or_create(&camera).set(since.as_secs_f64());
        }
        if let Some(o) = s.camera_clock_offset {
            offset.get_or_create(&camera).set(o);
        }
        for (family, n) in [
            (&delivered, s.frames_decoded),
            (&decoded, s.pictures_decoded),
            (&reconnects, s.reconnects),
            (&overwritten, s.frames_overwritten_unread),
            (&skipped, s.frames_skipped),
            (&errors, s.decode_errors),
            (&units, s.units_skipped),
            (&not_converted, s.frames_not_converted),
        ] {
            family.get_or_create(&camera).inc_by(n);
        }
        decode_time
            .get_or_create(&camera)
            .inc_by(s.decode_time.as_secs_f64());
        convert_time
            .get_or_create(&camera)
            .inc_by(s.convert_time.as_secs_f64());
        for each in State::ALL {
            let labels = CameraState {
                camera: camera.camera.clone(),
                state: each.name(),
            };
            let on = if each == s.state { 1.0 } else { 0.0 };
            state.get_or_create(&labels).set(on);
        }
    }
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeMode;
    use std::time::Duration;

    fn stats() -> Stats {
        Stats {
            state: State::Streaming,
            frames_decoded: 41,
            last_seq: 41,
            frames_overwritten_unread: 3,
            frames_beyond_pool: 0,
            measured_fps: 15.0,
            decode_errors: 2,
            frames_skipped: 5,
            units_skipped: 7,
            frames_not_converted: 11,
            decode_mode: DecodeMode::All,
            pictures_decoded: 52,
            decoded_fps: 14.5,
            decode_time: Duration::from_millis(1500),
            convert_time: Duration::from_millis(250),
            reconnects: 4,
            camera_clock_offset: Some(0.25),
            aligned_history: (0, 0),
            generation: 1,
            backend_panics: 0,
            messages_coalesced: 0,
            last_error: None,
            last_error_at: None,
            offline_since: None,
            since_last_frame: Some(Duration::from_millis(20)),
            live_threads: 2,
            detached_threads: 0,
        }
    }

    #[test]
    fn every_figure_is_labelled_by_its_escaped_key() {
        let text = stats().to_prometheus("gate \"north\"\\2\nb");
        let key = r#"camera="gate \"north\"\\2\nb""#;
        for line in [
            format!("rtsp_stream_frames_delivered_total{{{key}}} 41"),
            format!("rtsp_stream_pictures_decoded_total{{{key}}} 52"),
            format!("rtsp_stream_reconnects_total{{{key}}} 4"),
            format!("rtsp_stream_units_skipped_total{{{key}}} 7"),
            format!("rtsp_stream_frames_not_converted_total{{{key}}} 11"),
            format!("rtsp_stream_decode_errors_total{{{key}}} 2"),
            format!("rtsp_stream_frames_skipped_total{{{key}}} 5"),
            format!("rtsp_stream_frames_overwritten_unread_total{{{key}}} 3"),
            format!("rtsp_stream_delivered_fps{{{key}}} 15.0"),
            format!("rtsp_stream_decoded_fps{{{key}}} 14.5"),
            format!("rtsp_stream_decode_seconds_total{{{key}}} 1.5"),
            format!("rtsp_stream_convert_seconds_total{{{key}}} 0.25"),
            format!("rtsp_stream_camera_clock_offset_seconds{{{key}}} 0.25"),
            format!("rtsp_stream_frame_age_seconds{{{key}}} 0.02"),
            format!("rtsp_stream_state{{{key},state=\"streaming\"}} 1.0"),
            format!("rtsp_stream_state{{{key},state=\"stalled\"}} 0.0"),
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
        // One line per sample: the key's line feed did not break one.
        assert!(
            text.lines()
                .all(|l| l.starts_with('#') || l.starts_with("rtsp_stream_"))
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
