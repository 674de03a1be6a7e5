//! Pre-encoded content for the scriptable server: generated at run time with the `ffmpeg` tool
//! (never committed), cached on disk, served without an encoder.
//!
//! "Camera-like" content has what real pictures have and a test card does not: sensor noise
//! on every pixel, changing from frame to frame, and motion (FFmpeg's `testsrc2`, whose
//! gradients and shapes move), encoded at a camera's bit rate with a camera's key-frame
//! interval. H.264 is High profile with CABAC, with or without B-frames; H.265 and MJPEG too.
//! Every frame carries its index in the pixels: the bottom 32 lines hold it as 24
//! black/white blocks ([`decode_stamp`](crate::decode_stamp) reads it back), drawn after the
//! noise so it survives compression. The scriptable server logs when it sent each index:
//! ground truth for latency and completeness.

use crate::TestkitError;
use crate::clip::FFMPEG_PROGRAM;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The codec of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCodec {
    /// H.264 High profile, CABAC, no B-frames (I and P pictures only).
    H264,
    /// H.264 High profile, CABAC, two B-frames between references (non-reference B).
    H264BFrames,
    /// H.265 Main profile, no B-frames.
    H265,
    /// Motion JPEG (baseline, 4:2:0, standard Huffman tables: what RTP/JPEG carries).
    Mjpeg,
}

impl ContentCodec {
    /// The RTP encoding name (`H264`, `H265`, `JPEG`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            ContentCodec::H264 | ContentCodec::H264BFrames => "H264",
            ContentCodec::H265 => "H265",
            ContentCodec::Mjpeg => "JPEG",
        }
    }

    /// Whether its access units are NAL units (H.264, H.265).
    pub fn is_h26x(self) -> bool {
        !matches!(self, ContentCodec::Mjpeg)
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentSpec {
    /// The codec.
    pub codec: ContentCodec,
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Length of the clip; the server loops it.
    pub seconds: u32,
    /// Target bit rate in kbit/s.
    pub kbps: u32,
    /// Frames from one key frame to the next.
    pub keyint: u32,
    /// Sensor noise and motion (`false`: the still test card `testsrc2` without noise).
    pub camera_like: bool,
}

impl ContentSpec {
    /// Camera-like H.264 (High, CABAC, no B-frames) of `width` × `height` at `fps` and
    /// `kbps`, a key frame every second, 10 s long.
    pub fn camera(width: u32, height: u32, fps: u32, kbps: u32) -> Self {
        ContentSpec {
            codec: ContentCodec::H264,
            width,
            height,
            fps,
            seconds: 10,
            kbps,
            keyint: fps,
            camera_like: true,
        }
    }

    /// A small clip for conformance scenarios: 320×240 at 15 fps, 500 kbit/s, a key frame
    /// every second, camera-like, 4 s long.
    pub fn small() -> Self {
        ContentSpec {
            seconds: 4,
            ..ContentSpec::camera(320, 240, 15, 500)
        }
    }

    /// The same with another codec.
    pub fn with_codec(mut self, codec: ContentCodec) -> Self {
        self.codec = codec;
        self
    }

    /// The same with another length.
    pub fn with_seconds(mut self, seconds: u32) -> Self {
        self.seconds = seconds;
        self
    }

    /// The same with a key frame every `keyint` frames.
    pub fn with_keyint(mut self, keyint: u32) -> Self {
        self.keyint = keyint;
        self
    }

    /// The same without noise: the test card.
    pub fn test_card(mut self) -> Self {
        self.camera_like = false;
        self
    }

    fn ffmpeg_args(&self) -> Vec<String> {
        let mut filter = String::new();
        if self.camera_like {
            filter.push_str("noise=alls=14:allf=t+u,");
        }
        filter.push_str("drawbox=x=0:y=ih-32:w=iw:h=32:color=black:t=fill");
        for bit in 0..24 {
            let (col, row) = (bit % 20, bit / 20);
            filter.push_str(&format!(
                ",drawbox=x={col}*iw/20:y=ih-32+{row}*16:w=iw/20:h=16:color=white:t=fill:\
                 enable='eq(mod(floor(n/pow(2\\,{bit}))\\,2)\\,1)'"
            ));
        }
        let source = format!(
            "testsrc2=size={}x{}:rate={}",
            self.width, self.height, self.fps
        );
        let rate = format!("{}k", self.kbps);
        let mut args: Vec<String> = [
            "-f",
            "lavfi",
            "-i",
            &source,
            "-t",
            &self.seconds.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(["-vf".into(), filter]);
        let keyint = self.keyint.max(1);
        let codec: Vec<String> = match self.codec {
            ContentCodec::H264 | ContentCodec::H264BFrames => {
                let bframes = if self.codec == ContentCodec::H264BFrames {
                    "bframes=2:b-pyramid=none"
                } else {
                    "bframes=0"
                };
                vec![
                    "-c:v".into(),
                    "libx264".into(),
                    "-preset".into(),
                    "veryfast".into(),
                    "-profile:v".into(),
                    "high".into(),
                    "-x264-params".into(),
                    format!(
                        "keyint={keyint}:min-keyint={keyint}:scenecut=0:{bframes}:\
                         repeat-headers=1:aud=1:cabac=1"
                    ),
                ]
            }
            ContentCodec::H265 => vec![
                "-c:v".into(),
                "libx265".into(),
                "-preset".into(),
                "veryfast".into(),
                "-x265-params".into(),
                format!(
                    "keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes=0:\
                     repeat-headers=1:aud=1:log-level=error"
                ),
            ],
            ContentCodec::Mjpeg => vec![
                "-c:v".into(),
                "mjpeg".into(),
                "-huffman".into(),
                "default".into(),
                "-pix_fmt".into(),
                "yuvj420p".into(),
            ],
        };
        args.extend(codec);
        if self.codec.is_h26x() {
            args.extend(["-pix_fmt".into(), "yuv420p".into()]);
        }
        args.extend([
            "-b:v".into(),
            rate.clone(),
            "-maxrate".into(),
            rate.clone(),
            "-bufsize".into(),
            rate,
        ]);
        args
    }
}

/// One encoded picture as the server sends it.
#[derive(Debug, Clone)]
pub struct AccessUnit {
    /// The NAL units without start codes (H.264, H.265), or one JPEG image (MJPEG).
    pub nals: Vec<Vec<u8>>,
    /// A random-access point (IDR, IRAP, every JPEG).
    pub key: bool,
    /// Its index in presentation order: the number drawn into its pixels.
    pub index: u32,
    /// Whether other pictures refer to it (false for H.264's non-reference B-frames).
    pub reference: bool,
}

/// A generated clip, split into access units in decoding order.
#[derive(Debug)]
pub struct Clip {
    /// What it is.
    pub spec: ContentSpec,
    /// Its access units, in decoding order.
    pub units: Vec<AccessUnit>,
    /// The parameter sets (H.264: SPS, PPS; H.265: VPS, SPS, PPS), from its first key frame.
    pub parameter_sets: Vec<Vec<u8>>,
    /// The clip as a Matroska file (for measuring a decoder on the same frames, no network).
    pub file: PathBuf,
}

impl Clip {
    /// The clip for `spec`: generated the first time (a few seconds), then from the disk cache
    /// (`RTSP_STREAM_TESTKIT_CACHE`, else the system's temporary directory) and memory. Needs
    /// the `ffmpeg` and `ffprobe` tools (Debian/Ubuntu package `ffmpeg`).
    pub fn get(spec: &ContentSpec) -> Result<Arc<Clip>, TestkitError> {
        static CLIPS: OnceLock<Mutex<HashMap<ContentSpec, Arc<Clip>>>> = OnceLock::new();
        let clips = CLIPS.get_or_init(Mutex::default);
        if let Some(clip) = clips
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(spec)
        {
            return Ok(Arc::clone(clip));
        }
        // One generation at a time in this process (threads asking for the same clip would
        // write the same files); other processes write under names of their own.
        static GENERATING: Mutex<()> = Mutex::new(());
        let _one = GENERATING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(clip) = clips
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(spec)
        {
            return Ok(Arc::clone(clip));
        }
        let clip = Arc::new(generate(spec)?);
        clips
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(spec.clone(), Arc::clone(&clip));
        Ok(clip)
    }

    /// Frames per second.
    pub fn fps(&self) -> u32 {
        self.spec.fps
    }

    /// The bit rate the clip really has, in kbit/s.
    pub fn measured_kbps(&self) -> f64 {
        let bytes: usize = self
            .units
            .iter()
            .flat_map(|u| u.nals.iter().map(Vec::len))
            .sum();
        bytes as f64 * 8.0 / 1000.0 / (self.units.len() as f64 / f64::from(self.spec.fps))
    }
}

fn cache_dir() -> PathBuf {
    std::env::var_os("RTSP_STREAM_TESTKIT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rtsp-stream-testkit-content"))
}

fn generate(spec: &ContentSpec) -> Result<Clip, TestkitError> {
    let args = spec.ffmpeg_args();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    args.hash(&mut hasher);
    ffmpeg_version().hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    let dir = cache_dir();
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{key}.mkv"));
    let elementary = dir.join(format!("{key}.es"));
    let packets = dir.join(format!("{key}.packets"));
    if !(file.exists() && elementary.exists() && packets.exists()) {
        // Written under temporary names and renamed: processes making the same clip at once
        // each end with a whole one.
        let tmp = |p: &Path| {
            let mut name = p.as_os_str().to_owned();
            name.push(format!(".tmp{}", std::process::id()));
            PathBuf::from(name)
        };
        run(FFMPEG_PROGRAM, &encode_args(&args, &tmp(&file)))?;
        run(
            FFMPEG_PROGRAM,
            &extract_args(spec.codec, &tmp(&file), &tmp(&elementary)),
        )?;
        let probe = output(
            "ffprobe",
            &[
                "-v".into(),
                "error".into(),
                "-select_streams".into(),
                "v".into(),
                "-show_entries".into(),
                "packet=pts,flags".into(),
                "-of".into(),
                "csv=p=0".into(),
                tmp(&file).display().to_string(),
            ],
        )?;
        std::fs::write(tmp(&packets), probe)?;
        for p in [&file, &elementary, &packets] {
            std::fs::rename(tmp(p), p)?;
        }
    }
    let stream = std::fs::read(&elementary)?;
    let packets = std::fs::read_to_string(&packets)?;
    let order: Vec<(u32, bool)> = packets
        .lines()
        .filter_map(|line| {
            let (pts, flags) = line.split_once(',')?;
            let ms: f64 = pts.trim().parse().ok()?;
            Some((
                (ms * f64::from(spec.fps) / 1000.0).round() as u32,
                flags.contains('K'),
            ))
        })
        .collect();
    let units = match spec.codec {
        ContentCodec::Mjpeg => split_jpegs(&stream),
        codec => split_annex_b(&stream, codec),
    };
    if units.len() != order.len() || units.is_empty() {
        return Err(TestkitError(format!(
            "the clip has {} access units but ffprobe saw {} packets",
            units.len(),
            order.len()
        )));
    }
    let units: Vec<AccessUnit> = units
        .into_iter()
        .zip(&order)
        .map(|(mut unit, &(index, key))| {
            unit.index = index;
            unit.key = key;
            unit
        })
        .collect();
    let parameter_sets = units
        .iter()
        .find(|u| u.key)
        .map(|u| {
            u.nals
                .iter()
                .filter(|n| is_parameter_set(spec.codec, n))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Ok(Clip {
        spec: spec.clone(),
        units,
        parameter_sets,
        file,
    })
}

fn encode_args(args: &[String], out: &Path) -> Vec<String> {
    let mut all: Vec<String> = ["-y", "-nostdin", "-loglevel", "error"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.extend(args.iter().cloned());
    all.extend(["-f".into(), "matroska".into(), out.display().to_string()]);
    all
}

fn extract_args(codec: ContentCodec, from: &Path, to: &Path) -> Vec<String> {
    let (bsf, format) = match codec {
        ContentCodec::H264 | ContentCodec::H264BFrames => (Some("h264_mp4toannexb"), "h264"),
        ContentCodec::H265 => (Some("hevc_mp4toannexb"), "hevc"),
        ContentCodec::Mjpeg => (None, "mjpeg"),
    };
    let mut all: Vec<String> = ["-y", "-nostdin", "-loglevel", "error", "-i"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.push(from.display().to_string());
    all.extend(["-c:v".into(), "copy".into()]);
    if let Some(bsf) = bsf {
        all.extend(["-bsf:v".into(), bsf.into()]);
    }
    all.extend(["-f".into(), format.into(), to.display().to_string()]);
    all
}

fn ffmpeg_version() -> String {
    output(FFMPEG_PROGRAM, &["-version".into()])
        .map(|v| v.lines().next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

fn run(program: &str, args: &[String]) -> Result<(), TestkitError> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| TestkitError(format!("the {program} tool does not run: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(TestkitError(format!("{program} failed: {status}")))
    }
}

fn output(program: &str, args: &[String]) -> Result<String, TestkitError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| TestkitError(format!("the {program} tool does not run: {e}")))?;
    if !out.status.success() {
        return Err(TestkitError(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The NAL units of an Annex B stream, without their start codes.
pub fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let mut end = starts.get(n + 1).map_or(stream.len(), |&next| next - 3);
            // A four-byte start code's leading zero belongs to it, not to the unit before.
            while end > start && stream[end - 1] == 0 && starts.get(n + 1).is_some() {
                end -= 1;
            }
            &stream[start..end]
        })
        .filter(|nal| !nal.is_empty())
        .collect()
}

/// The NAL unit type of an H.264 or H.265 unit.
pub fn nal_type(codec: ContentCodec, nal: &[u8]) -> u8 {
    match codec {
        ContentCodec::H265 => nal.first().map_or(0, |b| (b >> 1) & 0x3f),
        _ => nal.first().map_or(0, |b| b & 0x1f),
    }
}

fn is_parameter_set(codec: ContentCodec, nal: &[u8]) -> bool {
    match codec {
        ContentCodec::H265 => matches!(nal_type(codec, nal), 32..=34),
        ContentCodec::Mjpeg => false,
        _ => matches!(nal_type(codec, nal), 7 | 8),
    }
}

fn is_delimiter(codec: ContentCodec, nal: &[u8]) -> bool {
    match codec {
        ContentCodec::H265 => nal_type(codec, nal) == 35,
        _ => nal_type(codec, nal) == 9,
    }
}

/// Access units of an Annex B stream whose units each begin with a delimiter (dropped: RTP
/// carries none).
fn split_annex_b(stream: &[u8], codec: ContentCodec) -> Vec<AccessUnit> {
    let mut units: Vec<AccessUnit> = Vec::new();
    for nal in nal_units(stream) {
        if is_delimiter(codec, nal) || units.is_empty() {
            units.push(AccessUnit {
                nals: Vec::new(),
                key: false,
                index: 0,
                reference: true,
            });
        }
        if !is_delimiter(codec, nal) {
            let unit = units.last_mut().expect("pushed above");
            if codec != ContentCodec::H265 && nal_type(codec, nal) >= 1 && nal_type(codec, nal) <= 5
            {
                // nal_ref_idc 0: nothing refers to this picture.
                unit.reference = nal[0] & 0x60 != 0;
            }
            unit.nals.push(nal.to_vec());
        }
    }
    // Units without a picture (parameter sets the bitstream filter put before a delimiter)
    // belong to the picture that follows them.
    let mut merged: Vec<AccessUnit> = Vec::with_capacity(units.len());
    let mut carried: Vec<Vec<u8>> = Vec::new();
    for mut unit in units {
        if unit.nals.iter().any(|n| is_picture(codec, n)) {
            carried.append(&mut unit.nals);
            unit.nals = std::mem::take(&mut carried);
            merged.push(unit);
        } else {
            carried.append(&mut unit.nals);
        }
    }
    merged
}

/// A NAL unit that carries (part of) a picture.
fn is_picture(codec: ContentCodec, nal: &[u8]) -> bool {
    match codec {
        ContentCodec::H265 => nal_type(codec, nal) < 32,
        _ => matches!(nal_type(codec, nal), 1..=5),
    }
}

/// The JPEG images of a concatenated MJPEG stream (SOI … EOI).
fn split_jpegs(stream: &[u8]) -> Vec<AccessUnit> {
    let mut units = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i + 1 < stream.len() {
        if stream[i] == 0xff {
            match stream[i + 1] {
                0xd8 if start.is_none() => start = Some(i),
                0xd9 => {
                    if let Some(s) = start.take() {
                        units.push(AccessUnit {
                            nals: vec![stream[s..i + 2].to_vec()],
                            key: true,
                            index: 0,
                            reference: true,
                        });
                    }
                }
                _ => {}
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    units
}

/// An H.264 sequence parameter set (Baseline profile) declaring a `width` × `height` picture
/// (multiples of 16): a camera's in-band SPS of a size of its choosing.
pub fn baseline_sps(width: u32, height: u32) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(66, 8); // profile_idc: Baseline
    bits.put(0xc0, 8); // constraint_set0/1
    bits.put(51, 8); // level_idc 5.1
    bits.ue(0); // seq_parameter_set_id
    bits.ue(0); // log2_max_frame_num_minus4
    bits.ue(2); // pic_order_cnt_type
    bits.ue(1); // max_num_ref_frames
    bits.put(0, 1); // gaps_in_frame_num_value_allowed_flag
    bits.ue(width / 16 - 1);
    bits.ue(height / 16 - 1);
    bits.put(1, 1); // frame_mbs_only_flag
    bits.put(1, 1); // direct_8x8_inference_flag
    bits.put(0, 1); // frame_cropping_flag
    bits.put(0, 1); // vui_parameters_present_flag
    bits.put(1, 1); // rbsp_stop_one_bit
    let rbsp = bits.finish();
    // NAL header (nal_ref_idc 3, type 7), with emulation prevention.
    let mut nal = vec![0x67];
    let mut zeros = 0;
    for b in rbsp {
        if zeros >= 2 && b <= 3 {
            nal.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        nal.push(b);
    }
    nal
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        for i in (0..bits).rev() {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = (value >> i) & 1;
            let last = self.bytes.last_mut().expect("pushed above");
            *last |= (bit as u8) << (7 - self.used % 8);
            self.used += 1;
        }
    }

    /// Unsigned exponential-Golomb.
    fn ue(&mut self, value: u32) {
        let v = u64::from(value) + 1;
        let len = 64 - v.leading_zeros();
        self.put(0, len - 1);
        for i in (0..len).rev() {
            self.put(((v >> i) & 1) as u32, 1);
        }
    }

    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_is_split_into_access_units_with_their_indices() {
        let clip = Clip::get(&ContentSpec::small().with_seconds(2).with_keyint(5)).unwrap();
        assert_eq!(clip.units.len(), 30);
        assert!(clip.units[0].key && clip.units[5].key && !clip.units[1].key);
        let indices: Vec<u32> = clip.units.iter().map(|u| u.index).collect();
        assert_eq!(indices, (0..30).collect::<Vec<_>>());
        assert_eq!(clip.parameter_sets.len(), 2);
    }

    #[test]
    fn a_made_up_sps_reads_back_its_size() {
        let sps = baseline_sps(16000, 16000);
        assert_eq!(sps[0] & 0x1f, 7);
        assert!(!sps.windows(3).any(|w| w == [0, 0, 0] || w == [0, 0, 1]));
    }
}
