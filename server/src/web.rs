//! The web client: the same `ui/` the desktop app shows, embedded in the binary at build time and served at `/`, so
//! anyone on the LAN can chat from a browser with nothing installed and the one binary works wherever it is copied.
//!
//! Only `index.html`, `css/` and `js/` are served, from memory: there is no file system path to traverse. Every
//! response carries `X-Content-Type-Options: nosniff`; HTML also carries a strict Content Security Policy (no inline
//! or remote script, no `eval`, WebSockets only to this server), the second line of defence behind the UI's rule of
//! rendering user text with `textContent` only.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use include_dir::{include_dir, Dir};

/// The UI folder, read at compile time.
static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../ui");

/// The folders of `ui/` the browser needs; the rest (tests, README) stays unreachable.
const SERVED_DIRS: [&str; 2] = ["css/", "js/"];

/// The policy for HTML pages, before the `connect-src` WebSocket sources that depend on the request's `Host`.
/// `default-src 'none'` refuses anything not listed; `img-src data:` is for the empty favicon of `index.html`.
const CSP_BASE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                        object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A static file ready to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asset {
    /// The file's bytes, embedded in the binary.
    pub(crate) body: &'static [u8],
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
}

/// Finds the file a request path names: `/` is `index.html`; anything outside [`SERVED_DIRS`], any `.` or `..`
/// segment, empty segment, backslash or percent-escape is `None` (a 404), whatever it would decode to.
pub(crate) fn lookup(path: &str) -> Option<Asset> {
    let relative = match path {
        "/" | "/index.html" => "index.html",
        _ => path.strip_prefix('/')?,
    };
    if relative != "index.html" && !SERVED_DIRS.iter().any(|dir| relative.starts_with(dir)) {
        return None;
    }
    let suspicious = |segment: &str| segment.is_empty() || segment.starts_with('.') || segment.contains(['%', '\\']);
    if relative.split('/').any(suspicious) {
        return None;
    }
    let file = UI.get_file(relative)?;
    Some(Asset { body: file.contents(), content_type: content_type(relative)? })
}

/// The content type by extension; files of other kinds are not served.
fn content_type(path: &str) -> Option<&'static str> {
    let (_, extension) = path.rsplit_once('.')?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

/// The Content Security Policy for an HTML page requested with this `Host`: the base policy, and `connect-src`
/// allowing this server's own `ws://` and `wss://` (browsers that predate CSP 3 do not count them as `'self'`). A
/// `Host` that is not a plain `name:port` adds nothing, so it can never smuggle a directive in.
pub(crate) fn csp(host: Option<&str>) -> String {
    let mut connect = String::from("connect-src 'self'");
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if let Some(host) = host.filter(|h| !h.is_empty() && h.len() <= 262 && h.chars().all(safe)) {
        connect.push_str(&format!(" ws://{host} wss://{host}"));
    }
    format!("{CSP_BASE}; {connect}")
}

/// The response for a static file: its type, `nosniff`, no caching without checking (a new server version must not
/// run beside an old cached script), no referrer, and for HTML the CSP.
pub(crate) fn response(asset: Asset, request_headers: &HeaderMap) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(asset.body)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if asset.content_type.starts_with("text/html") {
        let host = request_headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if let Ok(policy) = HeaderValue::from_str(&csp(host)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{csp, lookup};

    #[test]
    fn serves_the_page_its_styles_and_scripts() {
        let index = lookup("/").expect("index.html is embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert_eq!(Some(index), lookup("/index.html"));
        assert_eq!(lookup("/js/main.js").map(|a| a.content_type), Some("text/javascript; charset=utf-8"));
        assert_eq!(lookup("/css/app.css").map(|a| a.content_type), Some("text/css; charset=utf-8"));
    }

    #[test]
    fn refuses_everything_else() {
        for path in [
            "/README.md",
            "/test/account.test.mjs",
            "/js/../README.md",
            "/js/./main.js",
            "/js//main.js",
            "/js/..%2fREADME.md",
            "/js/%2e%2e/README.md",
            "/js\\..\\README.md",
            "/js/",
            "/js",
            "/js/nothing.js",
            "",
            "index.html",
        ] {
            assert_eq!(lookup(path), None, "{path}");
        }
    }

    #[test]
    fn the_host_cannot_add_directives() {
        assert!(csp(Some("10.0.0.5:7878")).ends_with("connect-src 'self' ws://10.0.0.5:7878 wss://10.0.0.5:7878"));
        assert!(csp(Some("[::1]:7878")).ends_with("connect-src 'self' ws://[::1]:7878 wss://[::1]:7878"));
        for host in ["evil; script-src *", "a b", "x'y", ""] {
            assert!(csp(Some(host)).ends_with("connect-src 'self'"), "{host}");
        }
        assert!(csp(None).ends_with("connect-src 'self'"));
    }
}
