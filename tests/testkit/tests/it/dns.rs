use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use testkit::dns::{DnsAnswer, DnsOptions, DnsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::QUIET;

fn records(chain: &[&str], a: Vec<Ipv4Addr>, aaaa: Vec<Ipv6Addr>) -> DnsAnswer {
    DnsAnswer::Records {
        cname_chain: chain.iter().map(|s| s.to_string()).collect(),
        a,
        aaaa,
        ttl: 42,
    }
}

fn zone() -> Vec<(&'static str, DnsAnswer)> {
    let lo = Ipv4Addr::LOCALHOST;
    vec![
        ("ok.test", records(&[], vec![lo], vec![Ipv6Addr::LOCALHOST])),
        ("v4only.test.", records(&[], vec![lo], vec![])),
        (
            "alias.test",
            records(&["mid.test", "target.test"], vec![lo], vec![]),
        ),
        ("nx.test", DnsAnswer::NxDomain),
        ("servfail.test", DnsAnswer::ServFail),
        ("refused.test", DnsAnswer::Refused),
        ("silent.test", DnsAnswer::Silent),
    ]
}

fn query(name: &str, t: RecordType) -> Message {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), t));
    m
}

async fn udp(addr: SocketAddr, q: &Message) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    sock.send_to(&q.to_vec().expect("encode"), addr)
        .await
        .expect("send");
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(QUIET, sock.recv(&mut buf))
        .await
        .ok()?
        .expect("recv");
    Some(Message::from_vec(&buf[..n]).expect("decode"))
}

async fn tcp(addr: SocketAddr, q: &Message) -> Message {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let wire = q.to_vec().expect("encode");
    s.write_u16(wire.len() as u16).await.expect("write len");
    s.write_all(&wire).await.expect("write");
    let read = async {
        let len = s.read_u16().await?;
        let mut buf = vec![0u8; len.into()];
        s.read_exact(&mut buf).await?;
        std::io::Result::Ok(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .expect("answer in time")
        .expect("read");
    Message::from_vec(&buf).expect("decode")
}

fn has_soa(m: &Message) -> bool {
    m.authorities
        .iter()
        .any(|r| matches!(r.data, RData::SOA(_)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_with_flags_id_and_question_echoed() {
    let srv = DnsServer::start(zone()).await;
    let q = query("OK.Test.", RecordType::A);
    let r = udp(srv.addr, &q).await.expect("answer");
    assert_eq!(r.metadata.id, q.metadata.id);
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.metadata.authoritative && r.metadata.recursion_available);
    assert!(!r.metadata.truncation);
    assert_eq!(r.queries, q.queries);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(r.answers[0].ttl, 42);
    assert!(matches!(r.answers[0].data, RData::A(a) if a.0 == Ipv4Addr::LOCALHOST));
    let r6 = udp(srv.addr, &query("ok.test", RecordType::AAAA))
        .await
        .expect("answer");
    assert!(matches!(r6.answers[0].data, RData::AAAA(a) if a.0 == Ipv6Addr::LOCALHOST));
    assert_eq!(srv.udp_queries(), 2);
    assert_eq!(srv.tcp_queries(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn edns_query_gets_opt_back() {
    let srv = DnsServer::start(zone()).await;
    let mut q = query("ok.test.", RecordType::A);
    q.set_edns(Edns::new());
    let r = udp(srv.addr, &q).await.expect("answer");
    assert!(r.edns.is_some());
    assert_eq!(r.answers.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn nodata_for_missing_family_and_other_types() {
    let srv = DnsServer::start(zone()).await;
    for (name, t) in [
        ("v4only.test.", RecordType::AAAA),
        ("ok.test.", RecordType::MX),
    ] {
        let r = udp(srv.addr, &query(name, t)).await.expect("answer");
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::NoError,
            "{name} {t}"
        );
        assert!(r.answers.is_empty(), "{name} {t}");
        assert!(has_soa(&r), "{name} {t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nxdomain_for_listed_and_unknown_names() {
    let srv = DnsServer::start(zone()).await;
    for name in ["nx.test.", "unknown.test."] {
        let r = udp(srv.addr, &query(name, RecordType::A))
            .await
            .expect("answer");
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{name}");
        assert!(r.answers.is_empty() && has_soa(&r), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn servfail_and_refused() {
    let srv = DnsServer::start(zone()).await;
    for (name, code) in [
        ("servfail.test.", ResponseCode::ServFail),
        ("refused.test.", ResponseCode::Refused),
    ] {
        let r = udp(srv.addr, &query(name, RecordType::A))
            .await
            .expect("answer");
        assert_eq!(r.metadata.response_code, code);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_chain_in_answer_section() {
    let srv = DnsServer::start(zone()).await;
    let r = udp(srv.addr, &query("alias.test.", RecordType::A))
        .await
        .expect("answer");
    let got: Vec<String> = r
        .answers
        .iter()
        .map(|rec| format!("{} {}", rec.name, rec.data))
        .collect();
    assert_eq!(
        got,
        [
            "alias.test. mid.test.",
            "mid.test. target.test.",
            "target.test. 127.0.0.1"
        ]
    );
    // AAAA: chain but no address -> NODATA with the CNAMEs.
    let r = udp(srv.addr, &query("alias.test.", RecordType::AAAA))
        .await
        .expect("answer");
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 2);
    assert!(has_soa(&r));
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_never_answers_but_counts() {
    let srv = DnsServer::start(zone()).await;
    assert!(
        udp(srv.addr, &query("silent.test.", RecordType::A))
            .await
            .is_none()
    );
    assert_eq!(srv.udp_queries(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_on_the_same_port() {
    let srv = DnsServer::start(zone()).await;
    let q = query("ok.test.", RecordType::A);
    let r = tcp(srv.addr, &q).await;
    assert_eq!(r.metadata.id, q.metadata.id);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(srv.tcp_queries(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn truncate_udp_forces_tcp() {
    let srv = DnsServer::start_with(
        zone(),
        DnsOptions {
            truncate_udp: true,
            ..DnsOptions::default()
        },
    )
    .await;
    let q = query("ok.test.", RecordType::A);
    let r = udp(srv.addr, &q).await.expect("answer");
    assert!(r.metadata.truncation);
    assert!(r.answers.is_empty());
    assert_eq!(r.queries, q.queries);
    let r = tcp(srv.addr, &q).await;
    assert!(!r.metadata.truncation);
    assert_eq!(r.answers.len(), 1);
    assert_eq!((srv.udp_queries(), srv.tcp_queries()), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_over_tcp_holds_the_connection() {
    let srv = DnsServer::start(zone()).await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    let wire = query("silent.test.", RecordType::A)
        .to_vec()
        .expect("encode");
    s.write_u16(wire.len() as u16).await.expect("write len");
    s.write_all(&wire).await.expect("write");
    let mut buf = [0u8; 2];
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
    assert_eq!(srv.tcp_queries(), 1);
}
