//! A SOCKS5 server (RFC 1928, username/password from RFC 1929) on 127.0.0.1.
//!
//! CONNECT only. Domain names are looked up in a fixed map, never through
//! the system resolver, and targets off loopback are refused (reply 0x02), so
//! tests cannot reach the outside world through it. Each request records
//! whether the client sent a name or an address: a socks5h:// client sends
//! the name (ATYP 0x03), a socks5:// client resolves it first and sends an
//! IPv4/IPv6 address (ATYP 0x01/0x04).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::READ_BOUND;
use crate::http::{close, write_all};
use crate::relay::{self, TargetError};
use crate::task::{TaskGuard, accept_loop};

/// SOCKS5 reply codes (RFC 1928 §6), for [`SocksOptions::reply`].
pub mod reply {
    pub const SUCCEEDED: u8 = 0x00;
    pub const GENERAL_FAILURE: u8 = 0x01;
    pub const NOT_ALLOWED: u8 = 0x02;
    pub const NETWORK_UNREACHABLE: u8 = 0x03;
    pub const HOST_UNREACHABLE: u8 = 0x04;
    pub const CONNECTION_REFUSED: u8 = 0x05;
    pub const TTL_EXPIRED: u8 = 0x06;
    pub const COMMAND_NOT_SUPPORTED: u8 = 0x07;
    pub const ADDRESS_TYPE_NOT_SUPPORTED: u8 = 0x08;
}

/// The address type a client used in its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Atyp {
    /// 0x01: the client resolved the name itself (socks5://) or had an IPv4.
    Ipv4,
    /// 0x04: likewise, IPv6.
    Ipv6,
    /// 0x03: the client left the name to the proxy (socks5h://).
    Domain,
}

/// One CONNECT request as received (recorded before any reply is sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocksRequest {
    pub atyp: Atyp,
    /// The name as sent, or the address in its usual text form (no brackets).
    pub host: String,
    pub port: u16,
    /// The RFC 1929 user name, if the client authenticated.
    pub user: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct SocksOptions {
    /// `Some((user, pass))`: only method 0x02 is accepted (a client offering
    /// only 0x00 gets 0xFF "no acceptable methods" and a close), and wrong
    /// credentials get status 0x01 and a close. `None`: 0x00 is chosen when
    /// offered, else 0x02 with any credentials (the user is still recorded).
    pub auth: Option<(String, String)>,
    /// `Some(code)` with code != 0: answer every CONNECT with this reply code
    /// (e.g. [`reply::NOT_ALLOWED`], [`reply::CONNECTION_REFUSED`]) and close,
    /// after the request was read and recorded.
    pub reply: Option<u8>,
    /// Domain names (ATYP 0x03) are found here only, keys compared ignoring
    /// ASCII case: "host:port" first, then "host"; a value with port 0 keeps
    /// the requested port. Unknown names get reply 0x04 (host unreachable).
    pub resolve: HashMap<String, SocketAddr>,
}

pub struct SocksServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<SocksRequest>>>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    _tasks: TaskGuard,
}

/// Most requests a server keeps in its log.
const MAX_LOGGED: usize = 10_000;

impl SocksServer {
    /// Listens on 127.0.0.1:<random port>. Replies to a CONNECT that cannot be
    /// completed: unknown name 0x04, connect refused 0x05, connect timeout
    /// (3 s) 0x04, non-loopback target 0x02, other errors 0x01, a command
    /// other than CONNECT 0x07, an unknown ATYP 0x08.
    pub async fn start(opts: SocksOptions) -> SocksServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("SocksServer: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("SocksServer: local_addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (opts, r, c) = (Arc::new(opts), requests.clone(), connections.clone());
        let mut tasks = TaskGuard::new();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let (opts, r, c) = (opts.clone(), r.clone(), c.clone());
            async move {
                c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                serve(tcp, &opts, &r).await
            }
        }));
        SocksServer {
            addr,
            requests,
            connections,
            _tasks: tasks,
        }
    }

    /// CONNECT requests received so far, oldest first (first 10 000).
    pub fn requests(&self) -> Vec<SocksRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// Client connections accepted (including ones that failed to negotiate).
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
    /// `socks5h://127.0.0.1:<port>` (the proxy resolves names) when
    /// `remote_dns`, else `socks5://127.0.0.1:<port>`. No credentials.
    pub fn url(&self, remote_dns: bool) -> String {
        let scheme = if remote_dns { "socks5h" } else { "socks5" };
        format!("{scheme}://{}", self.addr)
    }
}

/// What the negotiation yields: the request and the authenticated user.
struct Negotiated {
    req: SocksRequest,
    cmd: u8,
}

async fn serve(mut client: TcpStream, opts: &SocksOptions, log: &Mutex<Vec<SocksRequest>>) {
    // The whole negotiation is bounded; a silent client just gets closed.
    let n = match timeout(READ_BOUND, negotiate(&mut client, opts)).await {
        Ok(Ok(Some(n))) => n,
        _ => {
            close(&mut client).await;
            return;
        }
    };
    {
        let mut v = log.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() < MAX_LOGGED {
            v.push(n.req.clone());
        }
    }
    if n.cmd != 0x01 {
        return fail(&mut client, reply::COMMAND_NOT_SUPPORTED).await;
    }
    if let Some(code) = opts.reply.filter(|&c| c != reply::SUCCEEDED) {
        return fail(&mut client, code).await;
    }
    let r = match n.req.atyp {
        // Addresses are used as sent (resolve only checks loopback for them).
        Atyp::Ipv4 | Atyp::Ipv6 => relay::resolve(&n.req.host, n.req.port, &HashMap::new()),
        // Names only through the map (an IP-looking name parses as one).
        Atyp::Domain => relay::resolve(&n.req.host, n.req.port, &opts.resolve),
    };
    let target = match r {
        Ok(addr) => relay::connect(addr).await,
        Err(e) => Err(e),
    };
    let mut target = match target {
        Ok(t) => t,
        Err(e) => {
            let code = match e {
                TargetError::UnknownHost | TargetError::TimedOut => reply::HOST_UNREACHABLE,
                TargetError::NotLoopback(_) => reply::NOT_ALLOWED,
                TargetError::Refused => reply::CONNECTION_REFUSED,
                TargetError::Other(_) => reply::GENERAL_FAILURE,
            };
            return fail(&mut client, code).await;
        }
    };
    let bound = target
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    if write_all(&mut client, &reply_msg(reply::SUCCEEDED, bound)).await {
        relay::splice(&mut client, &mut target, &[]).await;
    }
}

/// Method selection, optional RFC 1929 sub-negotiation and the request.
/// `Ok(None)`: the client was turned away (answer already sent).
async fn negotiate(s: &mut TcpStream, opts: &SocksOptions) -> std::io::Result<Option<Negotiated>> {
    let mut hdr = [0u8; 2];
    s.read_exact(&mut hdr).await?;
    if hdr[0] != 5 {
        return Ok(None); // not SOCKS5: just close
    }
    let mut methods = vec![0u8; usize::from(hdr[1])];
    s.read_exact(&mut methods).await?;
    let method = match &opts.auth {
        Some(_) if methods.contains(&0x02) => 0x02,
        Some(_) => 0xFF,
        None if methods.contains(&0x00) => 0x00,
        None if methods.contains(&0x02) => 0x02,
        None => 0xFF,
    };
    s.write_all(&[5, method]).await?;
    if method == 0xFF {
        return Ok(None);
    }
    let mut user = None;
    if method == 0x02 {
        // RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.
        let mut v = [0u8; 2];
        s.read_exact(&mut v).await?;
        let mut name = vec![0u8; usize::from(v[1])];
        s.read_exact(&mut name).await?;
        let mut plen = [0u8; 1];
        s.read_exact(&mut plen).await?;
        let mut pass = vec![0u8; usize::from(plen[0])];
        s.read_exact(&mut pass).await?;
        let (name, pass) = (
            String::from_utf8_lossy(&name).into_owned(),
            String::from_utf8_lossy(&pass).into_owned(),
        );
        let ok = v[0] == 1
            && opts
                .auth
                .as_ref()
                .is_none_or(|(u, p)| *u == name && *p == pass);
        s.write_all(&[1, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(None);
        }
        user = Some(name);
    }
    // VER CMD RSV ATYP DST.ADDR DST.PORT
    let mut req = [0u8; 4];
    s.read_exact(&mut req).await?;
    if req[0] != 5 {
        return Ok(None);
    }
    let (atyp, host) = match req[3] {
        0x01 => {
            let mut a = [0u8; 4];
            s.read_exact(&mut a).await?;
            (Atyp::Ipv4, Ipv4Addr::from(a).to_string())
        }
        0x04 => {
            let mut a = [0u8; 16];
            s.read_exact(&mut a).await?;
            (Atyp::Ipv6, Ipv6Addr::from(a).to_string())
        }
        0x03 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await?;
            let mut name = vec![0u8; usize::from(len[0])];
            s.read_exact(&mut name).await?;
            (Atyp::Domain, String::from_utf8_lossy(&name).into_owned())
        }
        _ => {
            // We cannot know how long the address is: answer and give up.
            s.write_all(&reply_msg(
                reply::ADDRESS_TYPE_NOT_SUPPORTED,
                SocketAddr::from(([0, 0, 0, 0], 0)),
            ))
            .await?;
            return Ok(None);
        }
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await?;
    Ok(Some(Negotiated {
        req: SocksRequest {
            atyp,
            host,
            port: u16::from_be_bytes(port),
            user,
        },
        cmd: req[1],
    }))
}

/// VER REP RSV ATYP BND.ADDR BND.PORT
fn reply_msg(code: u8, bound: SocketAddr) -> Vec<u8> {
    let mut m = vec![5, code, 0];
    match bound {
        SocketAddr::V4(a) => {
            m.push(0x01);
            m.extend_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            m.push(0x04);
            m.extend_from_slice(&a.ip().octets());
        }
    }
    m.extend_from_slice(&bound.port().to_be_bytes());
    m
}

/// Sends a failure reply (zero bound address) and closes.
async fn fail(s: &mut TcpStream, code: u8) {
    if write_all(s, &reply_msg(code, SocketAddr::from(([0, 0, 0, 0], 0)))).await {
        close(s).await;
    }
}
