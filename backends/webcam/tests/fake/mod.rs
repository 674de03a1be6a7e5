//! A scripted camera system: cameras that can be plugged in and out, held by another process,
//! frozen, and that deliver synthetic YUYV, NV12 or MJPEG pictures of known colours.

use rtsp_stream_webcam::{
    CameraMode, CameraStream, CameraSystem, DeviceError, DeviceInfo, FourCc, RawFrame,
};
use std::borrow::Cow;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Left half of every picture, RGB.
pub const LEFT: [u8; 3] = [200, 50, 50];

/// A camera of the fake system.
#[derive(Clone)]
pub struct FakeCamera {
    pub name: String,
    pub stable_id: String,
    /// Right half of its pictures, RGB: tells cameras apart in the frames.
    pub colour: [u8; 3],
    pub modes: Vec<CameraMode>,
}

#[derive(Default)]
struct State {
    /// Plugged-in cameras with the index they are listed under now.
    plugged: Vec<(u32, FakeCamera)>,
    /// Bumped on every unplug, so open streams of an unplugged camera fail.
    plug_epoch: u64,
    busy: Vec<String>,
    frozen: bool,
    /// Stable ids of every successful open, in order.
    opened: Vec<String>,
    /// The modes asked for, in order.
    chosen: Vec<CameraMode>,
}

/// The system; clones share it.
#[derive(Clone, Default)]
pub struct FakeCameras {
    inner: Arc<(Mutex<State>, Condvar)>,
}

impl FakeCameras {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn plug(&self, index: u32, camera: FakeCamera) {
        self.lock().plugged.push((index, camera));
    }

    pub fn unplug(&self, stable_id: &str) {
        let mut s = self.lock();
        s.plugged.retain(|(_, c)| c.stable_id != stable_id);
        s.plug_epoch += 1;
        self.inner.1.notify_all();
    }

    pub fn set_busy(&self, stable_id: &str, busy: bool) {
        let mut s = self.lock();
        s.busy.retain(|b| b != stable_id);
        if busy {
            s.busy.push(stable_id.to_owned());
        }
    }

    /// Frozen cameras block in `frame()` and ignore cancellation, like nokhwa's V4L2 poll.
    pub fn set_frozen(&self, frozen: bool) {
        self.lock().frozen = frozen;
        self.inner.1.notify_all();
    }

    pub fn opened(&self) -> Vec<String> {
        self.lock().opened.clone()
    }

    pub fn chosen(&self) -> Vec<CameraMode> {
        self.lock().chosen.clone()
    }
}

impl CameraSystem for FakeCameras {
    fn devices(&self) -> Result<Vec<DeviceInfo>, DeviceError> {
        Ok(self
            .lock()
            .plugged
            .iter()
            .map(|(index, c)| DeviceInfo {
                index: *index,
                name: c.name.clone(),
                path: Some(format!("/dev/video{index}").into()),
                stable_id: Some(c.stable_id.clone()),
                modes: c.modes.clone(),
            })
            .collect())
    }

    fn open(
        &self,
        device: &DeviceInfo,
        choose: &dyn Fn(&[CameraMode]) -> Option<CameraMode>,
    ) -> Result<Box<dyn CameraStream>, DeviceError> {
        let mut s = self.lock();
        let id = device.stable_id.clone().unwrap();
        let Some((_, camera)) = s.plugged.iter().find(|(_, c)| c.stable_id == id).cloned() else {
            return Err(DeviceError::Missing(format!(
                "{id}: No such device (os error 19)"
            )));
        };
        if s.busy.contains(&id) {
            return Err(DeviceError::Busy(format!(
                "{id}: Device or resource busy (os error 16)"
            )));
        }
        let mode = choose(&camera.modes)
            .ok_or_else(|| DeviceError::Unsupported("no decodable mode".into()))?;
        s.opened.push(id);
        s.chosen.push(mode);
        let epoch = s.plug_epoch;
        Ok(Box::new(FakeStream {
            system: self.clone(),
            camera,
            mode,
            epoch,
            picture: Vec::new(),
        }))
    }
}

struct FakeStream {
    system: FakeCameras,
    camera: FakeCamera,
    mode: CameraMode,
    epoch: u64,
    picture: Vec<u8>,
}

impl CameraStream for FakeStream {
    fn mode(&self) -> CameraMode {
        self.mode
    }

    fn frame(&mut self) -> Result<RawFrame<'_>, DeviceError> {
        {
            let (lock, wake) = &*self.system.inner;
            let mut s = lock.lock().unwrap_or_else(PoisonError::into_inner);
            while s.frozen && s.plug_epoch == self.epoch {
                s = wake.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
            if s.plug_epoch != self.epoch
                && !s
                    .plugged
                    .iter()
                    .any(|(_, c)| c.stable_id == self.camera.stable_id)
            {
                return Err(DeviceError::Missing("No such device (os error 19)".into()));
            }
        }
        // The fake camera's own frame rate: 100 fps.
        std::thread::sleep(Duration::from_millis(10));
        if self.picture.is_empty() {
            self.picture = encode(self.mode, self.camera.colour);
        }
        Ok(RawFrame {
            data: Cow::Borrowed(&self.picture),
            mode: self.mode,
        })
    }
}

/// A picture whose left half is [`LEFT`] and right half `right`, in `mode`'s encoding.
pub fn encode(mode: CameraMode, right: [u8; 3]) -> Vec<u8> {
    let (w, h) = (mode.width as usize, mode.height as usize);
    let rgb_at = |x: usize| if x < w / 2 { LEFT } else { right };
    match mode.fourcc {
        FourCc::Yuyv => {
            let mut out = Vec::with_capacity(w * h * 2);
            for _ in 0..h {
                for x in (0..w).step_by(2) {
                    let (y0, u, v) = yuv(rgb_at(x));
                    let (y1, _, _) = yuv(rgb_at(x + 1));
                    out.extend_from_slice(&[y0, u, y1, v]);
                }
            }
            out
        }
        FourCc::Nv12 => {
            let mut out = Vec::with_capacity(w * h * 3 / 2);
            for _ in 0..h {
                out.extend((0..w).map(|x| yuv(rgb_at(x)).0));
            }
            for _ in 0..h / 2 {
                for x in (0..w).step_by(2) {
                    let (_, u, v) = yuv(rgb_at(x));
                    out.extend_from_slice(&[u, v]);
                }
            }
            out
        }
        FourCc::Mjpeg => {
            let mut rgb = Vec::with_capacity(w * h * 3);
            for _ in 0..h {
                for x in 0..w {
                    rgb.extend_from_slice(&rgb_at(x));
                }
            }
            let mut jpeg = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            jpeg.set_size(w, h);
            jpeg.set_quality(90.0);
            let mut started = jpeg.start_compress(Vec::new()).unwrap();
            started.write_scanlines(&rgb).unwrap();
            started.finish().unwrap()
        }
        other => unimplemented!("the fake camera does not encode {other:?}"),
    }
}

/// BT.601 video range, as cameras send it.
fn yuv([r, g, b]: [u8; 3]) -> (u8, u8, u8) {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    (y.round() as u8, u.round() as u8, v.round() as u8)
}
