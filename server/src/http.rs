//! The HTTP side of the one listening port: `/health`, the WebSocket upgrades for `/ws` and `/echo`, the web
//! client's static files (see `web`), and the bots' API (see `api`).
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

use crate::server::{Shared, Transport};
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
    transport: Transport,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    let plain_refused = shared.tls.is_some() && !shared.allow_plain && !peer.ip().to_canonical().is_loopback();
    if transport == Transport::Plain && plain_refused && path != "/health" {
        let message = "this server only accepts secure connections: connect with wss://HOST:PORT/ws (use the join \
                       link the host shows; it has the right address and fingerprint)\n";
        return Ok(text(StatusCode::FORBIDDEN, message));
    }
    if req.method() == Method::POST {
        if let Some(room) = crate::api::room_of(path) {
            let room = room.to_owned();
            return Ok(crate::api::post(req, room, &shared).await);
        }
    }
    let response = match (req.method(), path) {
        (&Method::GET, "/health") => health(&shared),
        (&Method::GET, "/ws") => upgrade(req, Service::Chat, shared, shutdown, peer),
        (&Method::GET, "/echo") => upgrade(req, Service::Echo, shared, shutdown, peer),
        (&Method::GET | &Method::HEAD, _) => match crate::web::lookup(path) {
            Some(asset) => crate::web::response(asset, req.headers()),
            None => not_found(),
        },
        _ => not_found(),
    };
    Ok(response)
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "Parlor server: connect a WebSocket to /ws (chat) or /echo; GET /health\n")
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
    if let Err(origin) = origin_allowed(&req, &shared) {
        tracing::info!(%peer, origin, "refused a WebSocket from another site's page");
        let message = format!(
            "a page from {origin} may not connect to this server; the host can allow it with \
             --allow-origin {origin}\n"
        );
        return text(StatusCode::FORBIDDEN, message);
    }
    let accept = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(upgraded) => upgraded,
            Err(err) => return tracing::debug!(%err, %peer, "upgrade failed"),
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(shared.ws_config)).await;
        let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
            tracing::warn!("connection refused: the server is full (raise --max-connections if it can take more)");
            return refuse(ws, CloseCode::TryAgainLater, "server is full; try again later").await;
        };
        let Some(ip_permit) = shared.per_ip.admit(peer.ip()) else {
            tracing::warn!(%peer, "connection refused: too many from this address (see --max-connections-per-ip)");
            return refuse(ws, CloseCode::TooManyFromAddress, "too many connections from your computer").await;
        };
        tracing::debug!(%peer, ?service, "connected");
        match service {
            Service::Chat => crate::connection::serve(ws, shared.clone(), shutdown, peer).await,
            Service::Echo => crate::echo::serve(ws, shutdown, shared.limits.idle_timeout).await,
        }
        drop((permit, ip_permit));
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

/// Whether a browser page may open this WebSocket: clients that are not browsers send no `Origin`; a page the server
/// itself served has an origin naming the `Host` it asked; anything else must be allowed by the host. `Err` carries
/// the refused origin.
fn origin_allowed(req: &Request<Incoming>, shared: &Shared) -> Result<(), String> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("(unreadable)").to_owned();
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest).trim_end_matches('/');
    let same_site = !host.is_empty() && origin_host.eq_ignore_ascii_case(host) && names_this_lan(host);
    if same_site || shared.allowed_origins.iter().any(|allowed| allowed.trim_end_matches('/') == origin) {
        Ok(())
    } else {
        Err(origin)
    }
}

/// Whether a `Host` names a machine the way people on a LAN do: an IP address, `localhost`, or an mDNS `.local`
/// name. A page from any other DNS name could be a rebinding attack (a site whose name was pointed at this server
/// after the page loaded), so its origin needs `--allow-origin`.
fn names_this_lan(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(name, _port)| name),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.to_ascii_lowercase();
    name.parse::<std::net::IpAddr>().is_ok() || name == "localhost" || name.ends_with(".local")
}

async fn refuse<S>(mut ws: WebSocketStream<S>, code: CloseCode, reason: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    let code = WsCloseCode::from(code.as_u16());
    let frame = CloseFrame { code, reason: reason.into() };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ws.send(Message::Close(Some(frame)))).await;
}

#[cfg(test)]
mod tests {
    use super::names_this_lan;

    #[test]
    fn only_addresses_and_local_names_count_as_this_lan() {
        for host in ["192.168.1.5:7878", "127.0.0.1", "[::1]:7878", "localhost:7878", "teacher.local:7878"] {
            assert!(names_this_lan(host), "{host}");
        }
        for host in ["evil.example:7878", "evil.example", "192.168.1.5.evil.example:80", "[::1"] {
            assert!(!names_this_lan(host), "{host}");
        }
    }
}
