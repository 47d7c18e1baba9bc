//! The browser client the server serves at `/`: the files of `ui/` with their content types, a strict Content
//! Security Policy and `nosniff`, 404 for anything else (directory traversal in every spelling included), and a page
//! from the server's own address (loopback or LAN) may open `/ws`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::util::TestServer;

/// One HTTP/1.1 response, split up.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends `request_line` (e.g. `GET / HTTP/1.1`) with a `Host` and reads the whole response: raw bytes, so paths
/// reach the server exactly as written, with no client normalising `..` away.
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, host: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).expect("UTF-8 headers");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

async fn get(server: &TestServer, path: &str) -> Reply {
    request(server.addr(), "GET", path, &server.addr().to_string()).await
}

fn directives(policy: &str) -> Vec<(String, Vec<String>)> {
    policy
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            Some((words.next()?.to_owned(), words.map(str::to_owned).collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_page_comes_with_a_strict_policy_and_nosniff() {
    let server = TestServer::start().await;
    let host = server.addr().to_string();
    for path in ["/", "/index.html"] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        let body = String::from_utf8(reply.body.clone()).expect("UTF-8");
        assert!(body.contains(r#"<script type="module" src="js/main.js">"#), "the UI's own page");

        let policy = reply.header("content-security-policy").expect("a CSP header");
        let policy = directives(policy);
        let directive = |name: &str| {
            policy.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(directive("default-src"), ["'none'"]);
        assert_eq!(directive("script-src"), ["'self'"], "no inline script, no eval, nothing remote");
        assert_eq!(directive("object-src"), ["'none'"]);
        assert_eq!(directive("base-uri"), ["'none'"]);
        assert_eq!(directive("frame-ancestors"), ["'none'"]);
        assert_eq!(directive("connect-src"), ["'self'".to_owned(), format!("ws://{host}"), format!("wss://{host}")]);
        for (name, values) in &policy {
            for value in values {
                assert!(
                    !["'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"].contains(&value.as_str())
                        || (name == "img-src" && value == "data:"),
                    "{name} allows {value}"
                );
            }
        }
    }
}

#[tokio::test]
async fn scripts_and_styles_have_their_types() {
    let server = TestServer::start().await;
    for (path, content_type) in [
        ("/js/main.js", "text/javascript; charset=utf-8"),
        ("/js/bridge.js", "text/javascript; charset=utf-8"),
        ("/js/view/dom.js", "text/javascript; charset=utf-8"),
        ("/css/app.css", "text/css; charset=utf-8"),
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{path}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        let on_disk = std::fs::read(format!("{}/../ui{path}", env!("CARGO_MANIFEST_DIR"))).expect("the file in ui/");
        assert_eq!(reply.body, on_disk, "{path} is served as it is in ui/");
    }
    let head = request(server.addr(), "HEAD", "/js/main.js", "x").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
}

#[tokio::test]
async fn anything_else_is_not_found() {
    let server = TestServer::start().await;
    for path in [
        "/nope",
        "/js/nope.js",
        "/README.md",
        "/test/account.test.mjs",
        "/js/",
        "/css",
        "/index.htm",
        "/js/../../Cargo.toml",
        "/js/../README.md",
        "/../server/Cargo.toml",
        "/js/..%2f..%2fCargo.toml",
        "/js/..%2F..%2FCargo.toml",
        "/%2e%2e/%2e%2e/Cargo.toml",
        "/js/%2e%2e%2fmain.js",
        "/js%2fmain.js",
        "/js/main.js%00",
        "/js\\..\\..\\Cargo.toml",
        "/js/.%2e/README.md",
        "//etc/passwd",
        "/js/./main.js",
        "/.git/HEAD",
    ] {
        let reply = get(&server, path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.header("content-type"), Some("text/plain; charset=utf-8"), "{path}");
    }
    let post = request(server.addr(), "POST", "/", "x").await;
    assert_eq!(post.status, 404, "only GET and HEAD read files");
}

#[tokio::test]
async fn a_page_from_this_server_may_open_the_chat_socket() {
    let server = TestServer::start().await;
    let port = server.addr().port();
    // The Origin check compares the page's origin with the Host the browser asked: at 127.0.0.1, or at the
    // server's LAN address (only the Host header names it; the connection itself stays on loopback here).
    for host in [format!("127.0.0.1:{port}"), format!("192.168.1.20:{port}"), format!("localhost:{port}")] {
        assert_eq!(request(server.addr(), "GET", "/", &host).await.status, 200, "{host}");
        for scheme in ["http", "https"] {
            let mut ws = server.url().into_client_request().expect("request");
            let headers = ws.headers_mut();
            headers.insert("Host", HeaderValue::from_str(&host).expect("header"));
            headers.insert("Origin", HeaderValue::from_str(&format!("{scheme}://{host}")).expect("header"));
            let opened = tokio_tungstenite::connect_async(ws).await.map(|_| ()).map_err(|e| e.to_string());
            assert!(opened.is_ok(), "{scheme}://{host}: {opened:?}");
        }
        // The same page may not reach another port on that machine.
        let mut ws = server.url().into_client_request().expect("request");
        ws.headers_mut().insert("Host", HeaderValue::from_str(&host).expect("header"));
        let other = format!("http://{}:{}", host.rsplit_once(':').map_or("", |(h, _)| h), port.wrapping_add(1));
        ws.headers_mut().insert("Origin", HeaderValue::from_str(&other).expect("header"));
        let refused = tokio_tungstenite::connect_async(ws).await.map(|_| ()).map_err(|e| e.to_string());
        assert!(refused.expect_err("another port's page").contains("403"));
    }
}
