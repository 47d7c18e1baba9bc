//! Host mode: the LAN server running inside the app, for a teacher who wants a room for the class without a terminal.
//!
//! The server is the same library as `parlor-server`, with its history in the app's data directory. It listens on
//! this computer only unless the user chose "everyone on my network"; then it also speaks TLS, with a self-signed
//! certificate kept in that directory, and the join links others should use are listed from the machine's network
//! interfaces. Each link carries the certificate's fingerprint (`wss://IP:PORT/ws#sha256=…`), so a classmate's app
//! can tell it reached this computer and not someone pretending on the network; the grouped fingerprint is shown
//! too, to read aloud. The app itself joins over loopback, where plain `ws://` stays allowed and nothing crosses
//! the network.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use parlor_client::Password;
use parlor_server::{Config, RunningServer};
use serde::Serialize;

use crate::error::AppError;

/// The port tried first: the same default as `parlor-server`, easy to say out loud in a classroom.
const PREFERRED_PORT: u16 = 7878;

/// What the UI shows while hosting.
#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    /// The port the server got.
    pub port: u16,
    /// Whether others on the network can join.
    pub lan: bool,
    /// Join links to give others (`wss://192.168.1.20:7878/ws#sha256=…`), or this computer's own address when not
    /// on the LAN.
    pub urls: Vec<String>,
    /// The address this app connects to (loopback, plain).
    pub local_url: String,
    /// The certificate's SHA-256 fingerprint grouped by four digits, to read aloud; `None` without TLS.
    pub fingerprint: Option<String>,
    /// The join code students can type instead of a link (`K7P-3QX`), when the server answers one.
    pub join_code: Option<String>,
}

/// A running hosted server.
#[derive(Debug)]
pub struct Hosted {
    server: RunningServer,
    info: HostInfo,
    /// The server's moderator token, so the host's own connection moderates (never shown or logged).
    moderator_token: Option<Password>,
}

impl Hosted {
    /// Starts the server with its data in `data_dir`, on port 7878 if free, else on any free port.
    pub async fn start(data_dir: PathBuf, lan: bool) -> Result<Self, AppError> {
        let ip = if lan { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
        let mut config = Config::new(data_dir);
        config.bind = SocketAddr::new(ip, PREFERRED_PORT);
        // Open to the network means TLS: others' connections cross it. Plain ws:// is then refused from other
        // computers (the server's default), and still allowed from this one.
        config.tls = lan;
        let server = match parlor_server::start(config.clone()).await {
            Ok(server) => server,
            Err(parlor_server::ServerError::Bind { .. }) => {
                tracing::info!(port = PREFERRED_PORT, "port busy; hosting on a free port instead");
                config.bind.set_port(0);
                parlor_server::start(config).await.map_err(|err| AppError::HostFailed(err.to_string()))?
            }
            Err(err) => return Err(AppError::HostFailed(err.to_string())),
        };
        let port = server.local_addr().port();
        let local_url = format!("ws://127.0.0.1:{port}/ws");
        let moderator_token = Password::new(server.moderator_token().expose());
        let (urls, fingerprint) = match (lan, server.tls_fingerprint()) {
            (true, Some(fingerprint)) => {
                let mut addresses = lan_addresses();
                if addresses.is_empty() {
                    // No network: at least this computer can still join, by the same kind of link.
                    addresses.push(Ipv4Addr::LOCALHOST);
                }
                (join_links(&addresses, port, fingerprint), Some(parlor_server::grouped_fingerprint(fingerprint)))
            }
            (true, None) => return Err(AppError::HostFailed("the server started without TLS".into())),
            (false, _) => (vec![local_url.clone()], None),
        };
        tracing::info!(port, lan, fingerprint = fingerprint.as_deref().unwrap_or("none"), "hosting");
        let join_code = server.join_code().map(parlor_protocol::join_code::display);
        let info = HostInfo { port, lan, urls, local_url, fingerprint, join_code };
        Ok(Self { server, info, moderator_token })
    }

    /// What to show.
    pub fn info(&self) -> &HostInfo {
        &self.info
    }

    /// The moderator token, for a connection to this server from this app (its local address).
    pub fn moderator_token_for(&self, url: &str) -> Option<Password> {
        (url == self.info.local_url).then(|| self.moderator_token.clone()).flatten()
    }

    /// Stops the server cleanly: clients get "going away", history is flushed.
    pub async fn stop(self) {
        self.server.shutdown().await;
        tracing::info!("stopped hosting");
    }
}

/// The join link for each address: `wss://ADDRESS:PORT/ws#sha256=FINGERPRINT`.
fn join_links(addresses: &[Ipv4Addr], port: u16, fingerprint: &str) -> Vec<String> {
    addresses.iter().map(|ip| format!("wss://{ip}:{port}/ws#sha256={fingerprint}")).collect()
}

/// Every non-loopback, non-link-local IPv4 address of this machine (what classmates can reach), sorted; empty
/// without a network.
fn lan_addresses() -> Vec<Ipv4Addr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!(%err, "cannot list network interfaces");
            Vec::new()
        }
    };
    let mut addresses: Vec<Ipv4Addr> = interfaces
        .into_iter()
        .filter(|iface| !iface.is_loopback())
        .filter_map(|iface| match iface.ip() {
            IpAddr::V4(ip) if !ip.is_link_local() => Some(ip),
            _ => None,
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_links_carry_the_fingerprint() {
        let fingerprint = "ab".repeat(32);
        let links = join_links(&[Ipv4Addr::new(192, 168, 1, 20)], 7878, &fingerprint);
        assert_eq!(links, [format!("wss://192.168.1.20:7878/ws#sha256={fingerprint}")]);
        // What the app's own connect form makes of a join link: the same server, pinned.
        let address = crate::address::normalize(&links[0]).expect("a join link is an address");
        assert_eq!(address.url, "wss://192.168.1.20:7878/ws");
        assert_eq!(address.pin.as_deref(), Some(fingerprint.as_str()));
    }

    #[tokio::test]
    async fn hosting_for_the_network_uses_tls_and_for_this_computer_does_not() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let local = Hosted::start(dir.path().join("local"), false).await.expect("hosting");
        assert_eq!(local.info().fingerprint, None);
        assert_eq!(local.info().urls, [local.info().local_url.clone()]);
        local.stop().await;

        let lan = Hosted::start(dir.path().join("lan"), true).await.expect("hosting");
        let info = lan.info().clone();
        let grouped = info.fingerprint.clone().expect("a fingerprint with TLS");
        assert_eq!(grouped.split(' ').count(), 16, "{grouped}");
        let hex = grouped.replace(' ', "");
        assert!(!info.urls.is_empty());
        assert!(info.urls.iter().all(|url| url.starts_with("wss://") && url.ends_with(&format!("/ws#sha256={hex}"))));
        assert!(info.local_url.starts_with("ws://127.0.0.1:"), "the app joins its own server over loopback");
        lan.stop().await;
    }
}
