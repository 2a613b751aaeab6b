//! A TCP proxy between an app under test and its PostgreSQL server, so a test can take the
//! database away and bring it back without stopping the (shared) server.
//!
//! Point the app's pool at [`DbProxy::url`]. [`DbProxy::cut`] drops every open connection and
//! closes the listening port, so new connections are refused — what clients see when the server
//! is down. [`DbProxy::partition`] drops every open connection too, but accepts new ones and
//! holds them without an answer — what clients see when the network to it is gone; they wait
//! until their own timeout. [`DbProxy::restore`] serves again on the same address.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    /// The port is closed: connections are refused.
    Refused,
    /// Connections are accepted and get no answer.
    Held,
}

/// A proxy in front of one PostgreSQL server; stops when dropped.
#[derive(Debug)]
pub struct DbProxy {
    url: String,
    link: watch::Sender<Link>,
    accept: JoinHandle<()>,
}

impl DbProxy {
    /// Starts a proxy on 127.0.0.1 in front of the server `database_url` names (a `postgres://`
    /// URL); [`DbProxy::url`] is the same URL through the proxy.
    pub async fn start(database_url: &str) -> DbProxy {
        let mut url = url::Url::parse(database_url).expect("a database URL");
        let host = url.host_str().expect("the database URL names a host").to_owned();
        let upstream = format!("{host}:{}", url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        url.set_host(Some("127.0.0.1")).expect("a URL with a host");
        url.set_port(Some(addr.port())).expect("a URL with a port");
        let (link, _) = watch::channel(Link::Up);
        let accept = tokio::spawn(accept_loop(listener, addr, upstream, link.clone()));
        DbProxy { url: url.into(), link, accept }
    }

    /// The database URL through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server goes away: open connections are dropped, new ones refused.
    pub fn cut(&self) {
        self.link.send_replace(Link::Refused);
    }

    /// The network goes away: open connections are dropped, new ones hang unanswered.
    pub fn partition(&self) {
        self.link.send_replace(Link::Held);
    }

    /// The server is back: new connections (and held ones) are served again.
    pub fn restore(&self) {
        self.link.send_replace(Link::Up);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.link.send_replace(Link::Refused);
    }
}

async fn accept_loop(listener: TcpListener, addr: SocketAddr, upstream: String, link: watch::Sender<Link>) {
    let mut state = link.subscribe();
    let mut listener = Some(listener);
    loop {
        let Some(open) = &listener else {
            // Refusing: the port stays closed until the link is up or held again.
            if state.wait_for(|l| *l != Link::Refused).await.is_err() {
                return;
            }
            listener = Some(rebind(addr).await);
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(serve(client, upstream.clone(), link.subscribe()));
            }
            changed = state.wait_for(|l| *l == Link::Refused) => {
                if changed.is_err() {
                    return;
                }
                listener = None;
            }
        }
    }
}

/// The same port again; another socket may briefly hold it, so retry for a while.
async fn rebind(addr: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the database proxy could not listen on {addr} again");
}

/// Proxies one client connection while the link is up; drops it as soon as it is not.
async fn serve(mut client: TcpStream, upstream: String, mut link: watch::Receiver<Link>) {
    // A connection accepted while held waits, unanswered, for the link to come back.
    match link.wait_for(|l| *l != Link::Held).await.map(|l| *l) {
        Ok(Link::Up) => {}
        _ => return,
    }
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => {}
        _ = link.wait_for(|l| *l != Link::Up) => {}
    }
}
