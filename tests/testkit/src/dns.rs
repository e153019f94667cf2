//! A tiny authoritative DNS server on 127.0.0.1, UDP and TCP on the same port
//! (clients fall back from UDP to TCP on the same address after TC=1).
//!
//! Messages are decoded and encoded with hickory-proto; answers are looked up
//! in a fixed zone given at start.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::{Instant, timeout, timeout_at};

use crate::task::{TaskGuard, accept_loop};
use crate::{MAX_CONNECTIONS, MAX_SERVER_LIFETIME, MAX_STALL, READ_BOUND};

#[derive(Clone, Debug)]
pub enum DnsAnswer {
    /// Answer A/AAAA from these lists. `cname_chain` = names the queried name
    /// aliases through, in order; addresses are owned by the last name. The
    /// CNAMEs and address records all go in the answer section (as a recursive
    /// resolver returns them). A family with an empty list gets NOERROR, no
    /// address records (the CNAMEs, if any, are still there) and an SOA in the
    /// authority section: NODATA. Other query types get NODATA likewise.
    Records {
        cname_chain: Vec<String>,
        a: Vec<Ipv4Addr>,
        aaaa: Vec<Ipv6Addr>,
        ttl: u32,
    },
    /// NXDOMAIN with an SOA in the authority section.
    NxDomain,
    ServFail,
    Refused,
    /// Read the query, never answer (TCP connections stay open, bounded).
    Silent,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct DnsOptions {
    /// Answer every UDP query (even for `Silent` names) with TC=1 and no
    /// records, forcing clients over to TCP.
    pub truncate_udp: bool,
    /// A schedule for UDP queries, cycling: the n-th datagram gets no answer when entry n
    /// modulo the length is true ("answer three, drop two" = a client that sends each query
    /// twice before giving up times out one lookup in four). Empty: answer as the zone says.
    pub silent_schedule: &'static [bool],
}

pub struct DnsServer {
    pub addr: SocketAddr,
    udp: Arc<AtomicUsize>,
    tcp: Arc<AtomicUsize>,
    _tasks: TaskGuard,
}

/// A zone entry with its names parsed once at start (bad names panic there).
enum Entry {
    Records {
        chain: Vec<Name>,
        a: Vec<Ipv4Addr>,
        aaaa: Vec<Ipv6Addr>,
        ttl: u32,
    },
    Code(ResponseCode),
    Silent,
}

type Zone = HashMap<String, Entry>;

/// Lower case without the trailing dot: the zone's lookup key.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn fqdn(name: &str) -> Name {
    let n = format!("{}.", name.trim_end_matches('.'));
    Name::from_ascii(&n).unwrap_or_else(|e| panic!("DnsServer: bad name {name:?}: {e}"))
}

impl DnsServer {
    pub async fn start(zone: Vec<(&str, DnsAnswer)>) -> DnsServer {
        Self::start_with(zone, DnsOptions::default()).await
    }

    pub async fn start_with(zone: Vec<(&str, DnsAnswer)>, opts: DnsOptions) -> DnsServer {
        let zone: Zone = zone
            .into_iter()
            .map(|(name, ans)| {
                let entry = match ans {
                    DnsAnswer::Records {
                        cname_chain,
                        a,
                        aaaa,
                        ttl,
                    } => Entry::Records {
                        chain: cname_chain.iter().map(|n| fqdn(n)).collect(),
                        a,
                        aaaa,
                        ttl,
                    },
                    DnsAnswer::NxDomain => Entry::Code(ResponseCode::NXDomain),
                    DnsAnswer::ServFail => Entry::Code(ResponseCode::ServFail),
                    DnsAnswer::Refused => Entry::Code(ResponseCode::Refused),
                    DnsAnswer::Silent => Entry::Silent,
                };
                fqdn(name); // validate
                (key(name), entry)
            })
            .collect();
        let zone = Arc::new(zone);
        let (udp_sock, tcp_listener) = bind_pair().await;
        let addr = udp_sock.local_addr().expect("DnsServer: local_addr");
        let (udp, tcp) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));

        let mut tasks = TaskGuard::new();
        tasks.spawn(udp_loop(udp_sock, zone.clone(), opts, udp.clone()));
        let counter = tcp.clone();
        tasks.spawn(accept_loop(tcp_listener, move |s| {
            tcp_conn(s, zone.clone(), counter.clone())
        }));
        DnsServer {
            addr,
            udp,
            tcp,
            _tasks: tasks,
        }
    }

    /// UDP datagrams received so far (answered or not).
    pub fn udp_queries(&self) -> usize {
        self.udp.load(Ordering::SeqCst)
    }
    /// TCP-framed queries received so far (answered or not).
    pub fn tcp_queries(&self) -> usize {
        self.tcp.load(Ordering::SeqCst)
    }
}

/// Binds UDP on a kernel-chosen port, then TCP on the same port; retries if
/// that TCP port happens to be taken.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("DnsServer: bind UDP 127.0.0.1:0");
        let addr = udp.local_addr().expect("DnsServer: local_addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("DnsServer: no port free for both UDP and TCP after 50 tries");
}

async fn udp_loop(sock: UdpSocket, zone: Arc<Zone>, opts: DnsOptions, count: Arc<AtomicUsize>) {
    let deadline = Instant::now() + MAX_SERVER_LIFETIME;
    let mut buf = vec![0u8; 4096];
    for _ in 0..MAX_CONNECTIONS {
        let (n, peer) = match timeout_at(deadline, sock.recv_from(&mut buf)).await {
            Err(_) => return,
            Ok(Ok(x)) => x,
            Ok(Err(_)) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let nth = count.fetch_add(1, Ordering::SeqCst);
        let schedule = opts.silent_schedule;
        if !schedule.is_empty() && schedule[nth % schedule.len()] {
            continue;
        }
        if let Some(resp) = respond(&zone, &buf[..n], opts.truncate_udp) {
            let _ = sock.send_to(&resp, peer).await;
        }
    }
}

/// Serves length-prefixed queries on one TCP connection: at most 1000, each
/// waited for at most [`MAX_STALL`] (so `Silent` holds the client that long).
async fn tcp_conn(mut s: TcpStream, zone: Arc<Zone>, count: Arc<AtomicUsize>) {
    for _ in 0..1000 {
        let Ok(Ok(len)) = timeout(MAX_STALL, s.read_u16()).await else {
            return;
        };
        let mut msg = vec![0u8; usize::from(len)];
        if !matches!(timeout(READ_BOUND, s.read_exact(&mut msg)).await, Ok(Ok(_))) {
            return;
        }
        count.fetch_add(1, Ordering::SeqCst);
        let Some(resp) = respond(&zone, &msg, false) else {
            continue;
        };
        let Ok(len) = u16::try_from(resp.len()) else {
            return;
        };
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(&resp);
        if !matches!(timeout(READ_BOUND, s.write_all(&out)).await, Ok(Ok(()))) {
            return;
        }
    }
}

/// Builds the wire response to `req`, or `None` to stay silent (undecodable
/// message, not a query, or a `Silent` name).
fn respond(zone: &Zone, req: &[u8], truncate: bool) -> Option<Vec<u8>> {
    let req = Message::from_vec(req).ok()?;
    if req.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.metadata.authoritative = true;
    resp.add_queries(req.queries.iter().cloned());
    if req.edns.is_some() {
        // RFC 6891: answer an EDNS query with an OPT record.
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        resp.set_edns(edns);
    }
    let Some(q) = req.queries.first() else {
        resp.metadata.response_code = ResponseCode::FormErr;
        return resp.to_vec().ok();
    };
    if truncate {
        resp.metadata.truncation = true;
        return resp.to_vec().ok();
    }
    let qname = q.name().clone();
    match zone.get(&key(&qname.to_ascii())) {
        None => nxdomain(&mut resp, &qname),
        Some(Entry::Code(ResponseCode::NXDomain)) => nxdomain(&mut resp, &qname),
        Some(Entry::Code(code)) => resp.metadata.response_code = *code,
        Some(Entry::Silent) => return None,
        Some(Entry::Records {
            chain,
            a,
            aaaa,
            ttl,
        }) => {
            let mut owner = qname.clone();
            let wants = q.query_type();
            if matches!(wants, RecordType::A | RecordType::AAAA) {
                for target in chain {
                    let rd = RData::CNAME(CNAME(target.clone()));
                    resp.add_answer(Record::from_rdata(owner, *ttl, rd));
                    owner = target.clone();
                }
            }
            let addrs: Vec<RData> = match wants {
                RecordType::A => a.iter().map(|ip| RData::A(A(*ip))).collect(),
                RecordType::AAAA => aaaa.iter().map(|ip| RData::AAAA(AAAA(*ip))).collect(),
                _ => Vec::new(),
            };
            if addrs.is_empty() {
                resp.add_authority(soa(&qname)); // NODATA
            }
            for rd in addrs {
                resp.add_answer(Record::from_rdata(owner.clone(), *ttl, rd));
            }
        }
    }
    resp.to_vec().ok()
}

fn nxdomain(resp: &mut Message, qname: &Name) {
    resp.metadata.response_code = ResponseCode::NXDomain;
    resp.add_authority(soa(qname));
}

/// SOA for negative answers, owned by the parent of the queried name (our
/// stand-in for the zone apex); its minimum (60 s) is the negative-cache TTL.
fn soa(qname: &Name) -> Record {
    let soa = SOA::new(
        fqdn("ns.netpeel.test"),
        fqdn("hostmaster.netpeel.test"),
        1,
        3600,
        600,
        86400,
        60,
    );
    Record::from_rdata(qname.base_name(), 60, RData::SOA(soa))
}
