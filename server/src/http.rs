//! The HTTP side of the one listening port: `/health`, and the WebSocket upgrades for `/ws` and `/echo`.
//!
//! hyper parses HTTP; this module only routes and completes the RFC 6455 handshake, then hands the upgraded socket
//! to tokio-tungstenite with a configuration chosen for many small messages.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parlor_protocol::{CloseCode, PROTOCOL_VERSION};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::server::Shared;
use crate::shutdown::Shutdown;
use crate::store::SERVER_NAME;

type Body = Full<Bytes>;

/// Which WebSocket service an upgrade asked for.
#[derive(Debug, Clone, Copy)]
enum Service {
    Chat,
    Echo,
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// Answers one HTTP request.
pub(crate) async fn route(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => health(&shared),
        (&Method::GET, "/ws") => upgrade(req, Service::Chat, shared, shutdown, peer),
        (&Method::GET, "/echo") => upgrade(req, Service::Echo, shared, shutdown, peer),
        _ => text(StatusCode::NOT_FOUND, "Parlor server: connect a WebSocket to /ws (chat) or /echo; GET /health\n"),
    };
    Ok(response)
}

fn health(shared: &Shared) -> Response<Body> {
    let body = serde_json::json!({
        "status": "ok",
        "server": SERVER_NAME,
        "protocol": PROTOCOL_VERSION,
        "connections": shared.connection_count(),
        "uptime_s": shared.started.elapsed().as_secs(),
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn header_has(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

fn upgrade(
    req: Request<Incoming>,
    service: Service,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    peer: SocketAddr,
) -> Response<Body> {
    let is_upgrade = header_has(&req, header::CONNECTION, "upgrade") && header_has(&req, header::UPGRADE, "websocket");
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).filter(|_| is_upgrade) else {
        return text(StatusCode::UPGRADE_REQUIRED, "this is a WebSocket endpoint: connect with ws://HOST:PORT/ws\n");
    };
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        let mut response = text(StatusCode::BAD_REQUEST, "only WebSocket version 13 is supported\n");
        response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let accept = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(upgraded) => upgraded,
            Err(err) => return tracing::debug!(%err, %peer, "upgrade failed"),
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(shared.ws_config)).await;
        let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
            return refuse_full(ws).await;
        };
        tracing::debug!(%peer, ?service, "connected");
        match service {
            Service::Chat => crate::connection::serve(ws, shared.clone(), shutdown).await,
            Service::Echo => crate::echo::serve(ws, shutdown, shared.limits.idle_timeout).await,
        }
        drop(permit);
        tracing::debug!(%peer, "disconnected");
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

async fn refuse_full<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    tracing::warn!("connection refused: the server is full (raise --max-connections if this machine can take more)");
    let code = WsCloseCode::from(CloseCode::TryAgainLater.as_u16());
    let frame = CloseFrame { code, reason: "server is full; try again later".into() };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ws.send(Message::Close(Some(frame)))).await;
}
