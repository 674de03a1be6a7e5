//! How RTSP media travels: a word of the options and of a stream's properties.

use crate::error::{Error, ErrorKind};
use std::fmt;

/// How RTSP media travels.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// TCP (interleaved in the RTSP connection) first, because UDP loses packets on real
    /// networks; if the server refuses TCP (RTSP `461 Unsupported Transport`) the backend
    /// falls back to UDP by itself and reports [`Notice::TransportFallback`](crate::Notice).
    #[default]
    Auto,
    /// TCP only: a server that refuses it is a [`ErrorKind::TransportRefused`] error.
    Tcp,
    /// UDP only.
    Udp,
}

impl Transport {
    /// `"auto"`, `"tcp"` or `"udp"`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Auto => "auto",
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Transport {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Transport::Auto),
            "tcp" => Ok(Transport::Tcp),
            "udp" => Ok(Transport::Udp),
            _ => Err(Error::core(
                ErrorKind::InvalidConfig,
                format!("unknown transport {s:?} (auto, tcp, udp)"),
            )),
        }
    }
}
