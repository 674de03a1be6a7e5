//! A frame as a PNG file.

use rtsp_stream::{Frame, PixelFormat};
use std::path::Path;

/// Writes `frame` to `path` as an 8-bit PNG (RGB, or gray for gray frames), atomically: a
/// temporary file renamed over the old one, so a viewer never sees half a picture.
pub fn write_png(frame: &Frame, path: &Path) -> Result<(), String> {
    let (w, h) = (frame.width(), frame.height());
    let (colour, bytes) = match frame.pixel_format() {
        PixelFormat::Gray8 => (png::ColorType::Grayscale, 1),
        _ => (png::ColorType::Rgb, 3),
    };
    let mut data = Vec::with_capacity(w as usize * h as usize * bytes);
    for y in 0..h {
        let row = frame.row(y);
        match frame.pixel_format() {
            PixelFormat::Bgr8 => {
                for px in row.chunks_exact(3) {
                    data.extend_from_slice(&[px[2], px[1], px[0]]);
                }
            }
            _ => data.extend_from_slice(row),
        }
    }
    let tmp = path.with_extension("png.tmp");
    let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&data).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}
