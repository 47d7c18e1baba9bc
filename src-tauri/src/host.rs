//! Host mode: the LAN server running inside the app, for a teacher who wants a room for the class without a terminal.
//!
//! The server is the same library as `parlor-server`, with its history in the app's data directory. It listens on
//! this computer only unless the user chose "everyone on my network"; then the addresses others should type are
//! listed from the machine's network interfaces.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

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
    /// Addresses to give others (`ws://192.168.1.20:7878/ws`), or this computer's own when not on the LAN.
    pub urls: Vec<String>,
    /// The address this app connects to.
    pub local_url: String,
}

/// A running hosted server.
#[derive(Debug)]
pub struct Hosted {
    server: RunningServer,
    info: HostInfo,
}

impl Hosted {
    /// Starts the server with its data in `data_dir`, on port 7878 if free, else on any free port.
    pub async fn start(data_dir: PathBuf, lan: bool) -> Result<Self, AppError> {
        let ip = if lan { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
        let mut config = Config::new(data_dir);
        config.bind = SocketAddr::new(ip, PREFERRED_PORT);
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
        let urls = if lan { lan_urls(port) } else { vec![local_url.clone()] };
        tracing::info!(port, lan, "hosting");
        Ok(Self { server, info: HostInfo { port, lan, urls, local_url } })
    }

    /// What to show.
    pub fn info(&self) -> &HostInfo {
        &self.info
    }

    /// Stops the server cleanly: clients get "going away", history is flushed.
    pub async fn stop(self) {
        self.server.shutdown().await;
        tracing::info!("stopped hosting");
    }
}

/// `ws://ADDRESS:PORT/ws` for every non-loopback IPv4 address of this machine (what classmates can type).
fn lan_urls(port: u16) -> Vec<String> {
    let addresses = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!(%err, "cannot list network interfaces");
            Vec::new()
        }
    };
    let mut urls: Vec<String> = addresses
        .into_iter()
        .filter(|iface| !iface.is_loopback())
        .filter_map(|iface| match iface.ip() {
            IpAddr::V4(ip) if !ip.is_link_local() => Some(format!("ws://{ip}:{port}/ws")),
            _ => None,
        })
        .collect();
    urls.sort();
    urls.dedup();
    if urls.is_empty() {
        // No network: at least this computer can still join.
        urls.push(format!("ws://127.0.0.1:{port}/ws"));
    }
    urls
}
