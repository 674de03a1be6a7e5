//! The RTSP session through retina: the host looked up under the deadline, DESCRIBE, SETUP of
//! the video track, PLAY; every await interruptible by the stream.

use crate::RetinaDecoder;
use crate::codec::VideoCodec;
use crate::error::RetinaError;
use retina::client::{
    Credentials, Demuxed, InitialSequenceNumberPolicy, PlayOptions, SessionGroup, SessionOptions,
    SetupOptions, TeardownPolicy, Transport as RetinaTransport,
};
use retina::codec::{FrameFormat, ParametersRef};
use rtsp_stream_core::Transport;
use rtsp_stream_core::raw::{CaptureContext, OpenRequest, plausible_fps};
use std::future::Future;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A playing session and what DESCRIBE said about its video track.
pub(crate) struct Opened {
    pub session: Demuxed,
    pub stream_index: usize,
    pub codec: VideoCodec,
    pub size: Option<(u32, u32)>,
    pub fps: Option<f64>,
    pub transport: Transport,
    pub group: Arc<SessionGroup>,
}

/// Runs `fut` until it completes, the stream cancels the connection or the current deadline
/// passes — whichever is first. The deadline is read again whenever the stream moves it.
pub(crate) async fn interruptible<T>(
    ctx: &CaptureContext,
    what: &str,
    fut: impl Future<Output = T>,
) -> Result<T, RetinaError> {
    let mut fut = std::pin::pin!(fut);
    loop {
        let changed = ctx.changed();
        ctx.checkpoint(what)?;
        let remaining = ctx.remaining();
        let timer = async {
            match remaining {
                Some(left) => tokio::time::sleep(left).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            out = &mut fut => return Ok(out),
            () = changed => {}
            () = timer => {}
        }
    }
}

/// Host lookups still in flight on their helper threads (the one thread this backend may
/// leave behind at a stop: the system resolver cannot be interrupted).
static LOOKUPS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How many host-name lookups are running now, left behind by stopped streams included.
pub fn lookups_in_flight() -> usize {
    LOOKUPS_IN_FLIGHT.load(Ordering::Relaxed)
}

/// The URL retina connects to: without credentials, with the host looked up under the
/// deadline (tokio would look it up on a blocking-pool thread that outlives the stream).
async fn connect_url(req: &OpenRequest, ctx: &CaptureContext) -> Result<url::Url, RetinaError> {
    let source = req.source();
    let bare = source.without_credentials();
    let mut url = url::Url::parse(&bare).map_err(|e| RetinaError::InvalidUrl(e.to_string()))?;
    match url.scheme() {
        "rtsp" => {}
        "rtsps" => return Err(RetinaError::Tls),
        other => return Err(RetinaError::InvalidUrl(format!("scheme {other:?}"))),
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(_) => return Ok(url),
        None => return Err(RetinaError::InvalidUrl("no host".into())),
    };
    let port = url.port().unwrap_or(554);
    let ip = resolve(ctx, host, port).await?;
    url.set_ip_host(ip)
        .map_err(|()| RetinaError::InvalidUrl("host".into()))?;
    Ok(url)
}

async fn resolve(ctx: &CaptureContext, host: String, port: u16) -> Result<IpAddr, RetinaError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let name = host.clone();
    LOOKUPS_IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("rs-lookup".into())
        .spawn(move || {
            let found = (name.as_str(), port)
                .to_socket_addrs()
                .map(|mut addrs| addrs.next().map(|a| a.ip()));
            LOOKUPS_IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
            let _ = tx.send(found);
        });
    if let Err(e) = spawned {
        LOOKUPS_IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
        return Err(RetinaError::Resolve {
            host,
            why: e.to_string(),
        });
    }
    match interruptible(ctx, "looking up the host", rx).await? {
        Ok(Ok(Some(ip))) => Ok(ip),
        Ok(Ok(None)) => Err(RetinaError::Resolve {
            host,
            why: "no address".into(),
        }),
        Ok(Err(e)) => Err(RetinaError::Resolve {
            host,
            why: e.to_string(),
        }),
        Err(_) => Err(RetinaError::Resolve {
            host,
            why: "the lookup thread ended".into(),
        }),
    }
}

/// Redirects followed from one DESCRIBE: enough for a camera behind an NVR behind a relay.
const MAX_REDIRECTS: usize = 3;

/// DESCRIBE, following the camera's redirects (`301`/`302` with a `Location`) for at most
/// [`MAX_REDIRECTS`] hops. Credentials go to the source's own host only: a redirect to another
/// host is followed without them. A loop, too many hops or a target that fails is an error
/// naming the target.
async fn describe_following_redirects(
    req: &OpenRequest,
    ctx: &CaptureContext,
    mut url: url::Url,
    group: &Arc<SessionGroup>,
) -> Result<retina::client::Session<retina::client::Described>, RetinaError> {
    let origin = (
        url.host_str().map(str::to_owned),
        url.port_or_known_default(),
    );
    let mut visited = vec![url.clone()];
    for hop in 0..=MAX_REDIRECTS {
        let same_host = (
            url.host_str().map(str::to_owned),
            url.port_or_known_default(),
        ) == origin;
        let creds = req
            .credentials()
            .filter(|_| same_host)
            .map(|c| Credentials {
                username: c.username.clone(),
                password: c.password.expose().to_owned(),
            });
        let options = SessionOptions::default()
            .creds(creds)
            .user_agent(format!("rtsp-stream/{}", env!("CARGO_PKG_VERSION")))
            .session_group(Arc::clone(group))
            .teardown(TeardownPolicy::Auto);
        let described = interruptible(
            ctx,
            "describing the stream",
            retina::client::Session::describe(url.clone(), options),
        )
        .await?;
        let error = match described {
            Ok(session) => return Ok(session),
            Err(error) => error,
        };
        let Some(location) = error.redirect_location() else {
            let error = RetinaError::Rtsp {
                during: "DESCRIBE",
                source: error,
            };
            return Err(match hop {
                0 => error,
                _ => RetinaError::Redirected {
                    target: url.to_string(),
                    source: Box::new(error),
                },
            });
        };
        let target = url
            .join(location)
            .map_err(|e| RetinaError::InvalidUrl(format!("redirect to {location:?}: {e}")))?;
        let why = if target.scheme() != "rtsp" {
            Some("a redirect to another scheme")
        } else if visited.contains(&target) {
            Some("a redirect loop")
        } else if hop == MAX_REDIRECTS {
            Some("too many redirects")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(RetinaError::RedirectRefused {
                target: target.to_string(),
                why,
            });
        }
        log::info!(
            target: "rtsp_stream::retina",
            "{}: redirected ({}) to {target}",
            req.source(),
            error.status_code().unwrap_or(0)
        );
        visited.push(target.clone());
        url = target;
    }
    unreachable!("the last hop returns")
}

/// DESCRIBE, SETUP of the first video track over `transport`, PLAY.
pub(crate) async fn open(
    req: &OpenRequest,
    ctx: &CaptureContext,
    transport: Transport,
    decoder: RetinaDecoder,
) -> Result<Opened, RetinaError> {
    let url = connect_url(req, ctx).await?;
    let group = Arc::new(SessionGroup::default());
    let rtsp = |during| move |source| RetinaError::Rtsp { during, source };
    let mut session = describe_following_redirects(req, ctx, url, &group).await?;
    let (stream_index, stream) = session
        .streams()
        .iter()
        .enumerate()
        .find(|(_, s)| s.media() == "video")
        .ok_or(RetinaError::NoVideoStream)?;
    let encoding = stream.encoding_name().to_owned();
    let codec = VideoCodec::from_encoding(&encoding);
    let (mut profile, mut size, mut fps) = (None, None, stream.framerate().map(f64::from));
    if let Some(ParametersRef::Video(params)) = stream.parameters() {
        profile = Some(params.rfc6381_codec().to_owned());
        size = Some(params.pixel_dimensions());
        if let Some((num, den)) = params.frame_rate().filter(|(n, _)| *n > 0) {
            fps = Some(f64::from(den) / f64::from(num));
        }
    }
    let codec = crate::decode::check_decodable(decoder, codec, &encoding, profile.as_deref())?;
    let setup = SetupOptions::default()
        .transport(match transport {
            Transport::Udp => RetinaTransport::Udp(Default::default()),
            _ => RetinaTransport::Tcp(Default::default()),
        })
        .frame_format(FrameFormat::SIMPLE);
    interruptible(
        ctx,
        "setting up the stream",
        session.setup(stream_index, setup),
    )
    .await?
    .map_err(rtsp("SETUP"))?;
    let playing = interruptible(
        ctx,
        "starting to play",
        // The first packet, not the PLAY answer, starts the sequence: a server that shares one
        // media among its clients (gst-rtsp-server, many NVRs) announces a number that packets
        // already on their way to a joining client do not follow, and retina would drop the
        // connection as "out-of-order packet or large loss". A camera that restarts its
        // encoder inside the session changes its SSRC: the stream follows it (a loss until the
        // next key frame) instead of reconnecting.
        session.play(
            PlayOptions::default()
                .initial_seq(InitialSequenceNumberPolicy::Ignore)
                .follow_ssrc_changes(true),
        ),
    )
    .await?
    .map_err(rtsp("PLAY"))?;
    let session = playing.demuxed().map_err(rtsp("demuxing"))?;
    Ok(Opened {
        session,
        stream_index,
        codec,
        size,
        fps: fps.and_then(plausible_fps),
        transport,
        group,
    })
}

/// Sends the session's TEARDOWN (retina does it when the session is dropped) and waits up to
/// `budget` for the answer. Must run inside the session's runtime.
pub(crate) async fn teardown(session: Demuxed, group: &SessionGroup, budget: Duration) {
    drop(session);
    if tokio::time::timeout(budget, group.await_teardown())
        .await
        .is_err()
    {
        log::debug!(
            target: "rtsp_stream::retina",
            "TEARDOWN not answered within {budget:?}; the connection is closed anyway"
        );
    }
}
