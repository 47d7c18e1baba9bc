//! Links in messages open in the system browser, never inside the app: a page from a chat message must not run
//! where the app's commands are. The UI asks for it with `open_link`; and whatever navigation the webview still
//! attempts (a link the UI did not catch, a form, a redirect) is stopped here and, if it is a web or mail link,
//! handed to the system browser.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, Url};

use crate::error::AppError;

/// Whether `url` is the app's own page (the bundled UI), which the webview may show.
fn is_app_page(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// The link, if it is one the system browser may open: `http`, `https` or `mailto`, never the app's own pages.
pub fn external(url: &str) -> Result<Url, AppError> {
    let parsed = Url::parse(url).map_err(|_| AppError::InvalidInput(format!("{url:?} is not a link")))?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") || is_app_page(&parsed) {
        return Err(AppError::InvalidInput("only web (http, https) and mail links open".into()));
    }
    Ok(parsed)
}

/// Opens a checked link in the system browser (or mail program).
pub fn open(url: &Url) -> Result<(), AppError> {
    tracing::info!(scheme = url.scheme(), "opening a link in the system browser");
    open::that_detached(url.as_str()).map_err(|err| AppError::Internal(format!("cannot start the browser: {err}")))
}

/// The guard on the main webview's navigation.
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("links")
        .on_navigation(|_webview, url| {
            if is_app_page(url) {
                return true;
            }
            match external(url.as_str()).and_then(|url| open(&url)) {
                Ok(()) => {}
                Err(err) => tracing::warn!(%err, scheme = url.scheme(), "blocked a navigation away from the app"),
            }
            false
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_and_mail_links_leave_the_app() {
        for ok in ["https://example.org/page?q=1", "http://10.0.0.5:8080/", "mailto:teacher@example.org"] {
            assert!(external(ok).is_ok(), "{ok}");
        }
        for refused in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "tauri://localhost/index.html",
            "http://tauri.localhost/index.html",
            "ipc://localhost/",
            "not a link",
        ] {
            assert!(external(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_apps_own_pages_stay() {
        for page in ["tauri://localhost/index.html", "http://tauri.localhost/"] {
            assert!(is_app_page(&Url::parse(page).expect("url")), "{page}");
        }
        assert!(!is_app_page(&Url::parse("https://tauri.localhost.evil.example/").expect("url")));
    }
}
