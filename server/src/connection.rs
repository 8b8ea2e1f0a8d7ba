//! One accepted TCP connection, served by hyper with the router: the client's
//! address as a trusted proxy names it, the drain's rules (see [`crate::serve`]),
//! and a connection closed on purpose when a request is answered before its
//! (larger than small) body was read, so that no client reuses a connection
//! hyper is closing, and none loses its answer to a reset.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    Router,
};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::{rt::TokioIo, service::TowerToHyperService};
use tower::ServiceExt;

use crate::request;

/// How each accepted connection is served.
pub(crate) struct Connections {
    pub(crate) router: Router,
    pub(crate) trusted_proxies: Arc<[ipnet::IpNet]>,
    pub(crate) http1: hyper::server::conn::http1::Builder,
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
    /// Every connection's task, for the drain to wait on.
    pub(crate) tasks: tokio_util::task::TaskTracker,
}

impl Connections {
    /// Serves `stream` in a task of its own, holding `slot` until it ends.
    /// `until_stopped`: on shutdown its open requests finish and it closes;
    /// otherwise (a connection accepted while draining) it serves one request, then closes.
    pub(crate) fn spawn(
        &self,
        stream: tokio::net::TcpStream,
        remote: std::net::SocketAddr,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
        until_stopped: bool,
    ) {
        let _ = stream.set_nodelay(true);
        let trusted = self.trusted_proxies.clone();
        // Told when the connection's first request begins (a permit is kept if nobody waits yet).
        let first_request = Arc::new(tokio::sync::Notify::new());
        let began = first_request.clone();
        let linger = Arc::new(Linger::default());
        let io = Io { stream: Some(stream), linger: linger.clone() };
        let wanted = linger.clone();
        let router = self.router.clone();
        let service = tower::service_fn(move |mut req: Request<Incoming>| {
            began.notify_one();
            // The client, as a trusted reverse proxy names it (else the peer): limits, audit and logs see it.
            let client = request::client_address(remote.ip(), req.headers(), &trusted);
            request::strip_untrusted_forwarding(remote.ip(), req.headers_mut(), &trusted);
            req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(client, remote.port())));
            let (req, body) = watch_body(req);
            let answer = router.clone().oneshot(req);
            let linger = wanted.clone();
            async move {
                let mut response = answer.await?;
                let unread = body.is_some_and(|body| !body.read.load(Ordering::Acquire));
                if unread && response.status() != StatusCode::SWITCHING_PROTOCOLS {
                    // Answered before its body was read (too large, refused first): hyper closes
                    // such a connection, so the client is told not to reuse it, and what it
                    // still sends is read away before the close (see `Linger`).
                    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                    linger.wanted.store(true, Ordering::Release);
                }
                Ok::<_, Infallible>(response)
            }
        });
        let mut http1 = self.http1.clone();
        if !until_stopped {
            http1.keep_alive(false);
        }
        let mut stopping = self.stopping.clone();
        self.tasks.spawn(async move {
            let conn = http1.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).with_upgrades();
            // Run in a block of its own, so that the connection (and its socket) is dropped after.
            let ended = async move {
                let mut conn = std::pin::pin!(conn);
                if !until_stopped {
                    return conn.await;
                }
                let mut served = std::pin::pin!(first_request.notified());
                tokio::select! {
                    ended = conn.as_mut() => ended,
                    _ = stopping.changed() => {
                        // A client that connected just before the shutdown sends its request
                        // next: it is answered (a connection closed under it would read as a
                        // reset), then the connection closes. Idle keep-alive ones close now.
                        let fresh = futures_util::poll!(served.as_mut()).is_pending();
                        let ended = if fresh {
                            tokio::select! {
                                ended = conn.as_mut() => Some(ended),
                                _ = served => None,
                            }
                        } else {
                            None
                        };
                        match ended {
                            Some(ended) => ended,
                            None => {
                                conn.as_mut().graceful_shutdown();
                                conn.await
                            }
                        }
                    }
                }
            }
            .await;
            if let Err(e) = ended {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            let left = linger.stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(stream) = left {
                read_away(stream).await;
            }
            drop(slot);
        });
    }
}

/// At most this much of what a client still sends is read away before its connection closes…
const LINGER_BYTES: usize = 4 * 1024 * 1024;
/// …for at most this long in all (less than a request's header timeout)…
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(5);
/// …and no longer than this after the client last sent something.
const LINGER_IDLE: std::time::Duration = std::time::Duration::from_secs(2);
/// A body of at most this many declared bytes is left to hyper, which reads it
/// away itself after the answer when it has arrived (as it has when sent with
/// its head): the connection stays open for the next request.
const SMALL_BODY: u64 = 8 * 1024;

/// A connection closed with unread data in its socket is reset by the kernel,
/// and a client still sending a body may then lose the answer it was sent
/// (the "lingering close" of nginx and Apache). When an answer went out
/// before its request's body was read, the socket is handed over here when
/// hyper drops it, and the task reads away what is left before closing it.
#[derive(Default)]
struct Linger {
    /// Set when an answer was given before its body was read.
    wanted: AtomicBool,
    /// The socket, handed over when hyper drops it (only when `wanted`).
    stream: std::sync::Mutex<Option<tokio::net::TcpStream>>,
}

/// Reads and discards what the client still sends, within [`LINGER_BYTES`],
/// [`LINGER_TIME`] and [`LINGER_IDLE`], until it closes its side; then the socket closes.
async fn read_away(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(LINGER_TIME, async {
        // Our side is done: the client reads the answer to its end.
        let _ = stream.shutdown().await;
        let mut buf = vec![0u8; 8 * 1024];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match tokio::time::timeout(LINGER_IDLE, stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
    })
    .await;
}

/// The socket as hyper sees it: a [`tokio::net::TcpStream`] that is handed to
/// [`Linger`] instead of closed when it must be read away first.
struct Io {
    /// `None` only once dropped.
    stream: Option<tokio::net::TcpStream>,
    linger: Arc<Linger>,
}

impl Drop for Io {
    fn drop(&mut self) {
        if self.linger.wanted.load(Ordering::Acquire) {
            let stream = self.stream.take();
            *self.linger.stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = stream;
        }
    }
}

fn gone() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::NotConnected)
}

impl tokio::io::AsyncRead for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_read(cx, buf),
            None => Poll::Ready(Err(gone())),
        }
    }
}

impl tokio::io::AsyncWrite for Io {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_write(cx, buf),
            None => Poll::Ready(Err(gone())),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(gone())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|stream| stream.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_flush(cx),
            None => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_shutdown(cx),
            None => Poll::Ready(Err(gone())),
        }
    }
}

/// Shared by a request's [`Watched`] body and the code that answers it.
struct BodyState {
    /// Read to its end by the handler.
    read: AtomicBool,
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: Incoming,
    state: Arc<BodyState>,
}

/// The request with its body watched, unless it has none or a small one (see [`SMALL_BODY`]).
fn watch_body(req: Request<Incoming>) -> (Request, Option<Arc<BodyState>>) {
    let body = req.body();
    if body.is_end_stream() || body.size_hint().exact().is_some_and(|n| n <= SMALL_BODY) {
        return (req.map(axum::body::Body::new), None);
    }
    let state = Arc::new(BodyState { read: AtomicBool::new(false) });
    let watched = state.clone();
    (req.map(|inner| axum::body::Body::new(Watched { inner, state: watched })), Some(state))
}

impl Body for Watched {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.state.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
