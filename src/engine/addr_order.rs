//! The order getaddrinfo returns addresses in, which is the order urllib3 tries them: glibc
//! sorts them by RFC 6724's destination address selection with the default policy table (an
//! `/etc/gai.conf` that changes it is not read). The source address of each destination is the
//! one the kernel would pick, found as glibc finds it: a UDP socket connected to the
//! destination (no packet is sent), then its local address.
//!
//! Rules applied: 1 (unusable last), 2 (matching scope), 5 (matching label), 6 (higher
//! precedence), 8 (smaller scope), 9 (longest matching prefix; for IPv4 only inside the
//! source's subnet, as glibc does), 10 (otherwise the answer's order). Rules 3, 4 and 7
//! (deprecated and home addresses, transition mechanisms) need interface flags and are left
//! out.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};

/// One destination with what the rules look at.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) dest: IpAddr,
    /// The source the kernel would use; None when there is no route (rule 1).
    pub(crate) source: Option<IpAddr>,
    /// The prefix length of the source's interface (for IPv4's rule 9).
    pub(crate) source_prefix: Option<u8>,
}

/// The addresses in getaddrinfo's order, and a sentence on why when it differs from the
/// answer's.
pub(crate) fn sort(addresses: Vec<IpAddr>, port: u16) -> (Vec<IpAddr>, Option<String>) {
    let candidates: Vec<Candidate> = addresses
        .iter()
        .map(|dest| {
            let source = source_for(*dest, port);
            Candidate {
                dest: *dest,
                source,
                source_prefix: source.and_then(interface_prefix),
            }
        })
        .collect();
    sort_candidates(candidates, &addresses)
}

/// [`sort`] on candidates whose sources are known (what the tests use).
pub(crate) fn sort_candidates(
    mut candidates: Vec<Candidate>,
    answer: &[IpAddr],
) -> (Vec<IpAddr>, Option<String>) {
    // A stable sort: rule 10 keeps the answer's order among equals.
    candidates.sort_by(compare);
    let sorted: Vec<IpAddr> = candidates.iter().map(|c| c.dest).collect();
    if sorted == answer {
        return (sorted, None);
    }
    let why = candidates
        .first()
        .zip(
            answer
                .first()
                .and_then(|a| candidates.iter().find(|c| c.dest == *a)),
        )
        .map(|(first, was)| {
            format!(
                "sorted as getaddrinfo does (RFC 6724): {} before {} ({})",
                first.dest,
                was.dest,
                deciding_rule(first, was)
            )
        });
    (sorted, why)
}

fn compare(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let prefer = |x: bool, y: bool| y.cmp(&x);
    prefer(a.source.is_some(), b.source.is_some())
        .then_with(|| prefer(scope_matches(a), scope_matches(b)))
        .then_with(|| prefer(label_matches(a), label_matches(b)))
        .then_with(|| precedence(b.dest).cmp(&precedence(a.dest)))
        .then_with(|| scope(a.dest).cmp(&scope(b.dest)))
        .then_with(|| match (common_prefix(a), common_prefix(b)) {
            (Some(x), Some(y)) if a.dest.is_ipv4() == b.dest.is_ipv4() => y.cmp(&x),
            _ => Ordering::Equal,
        })
}

/// The first rule that puts `a` before `b`, in words.
fn deciding_rule(a: &Candidate, b: &Candidate) -> String {
    if a.source.is_some() != b.source.is_some() {
        return format!("no route to {}", b.dest);
    }
    if scope_matches(a) != scope_matches(b) {
        return "its scope matches its source's".into();
    }
    if label_matches(a) != label_matches(b) {
        return "its label matches its source's".into();
    }
    if precedence(a.dest) != precedence(b.dest) {
        return format!(
            "higher precedence, {} over {}",
            precedence(a.dest),
            precedence(b.dest)
        );
    }
    if scope(a.dest) != scope(b.dest) {
        return "smaller scope".into();
    }
    match a.source {
        Some(src) => format!("longer prefix in common with the source {src}"),
        None => "the answer's order".into(),
    }
}

/// The address as IPv6 (IPv4 mapped), which the policy table is written for.
fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn in_prefix(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

/// RFC 6724's default policy table (glibc's): (prefix, length, precedence, label), longest
/// prefixes first.
const POLICY: [(Ipv6Addr, u32, u8, u8); 9] = [
    (Ipv6Addr::LOCALHOST, 128, 50, 0),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, 35, 4),
    (Ipv6Addr::UNSPECIFIED, 96, 1, 3),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, 5, 5),
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, 30, 2),
    (Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0), 16, 1, 12),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, 1, 11),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, 3, 13),
    (Ipv6Addr::UNSPECIFIED, 0, 40, 1),
];

fn policy(ip: IpAddr) -> (u8, u8) {
    let addr = v6(ip);
    POLICY
        .iter()
        .find(|(net, len, _, _)| in_prefix(addr, *net, *len))
        .map_or((40, 1), |(_, _, prec, label)| (*prec, *label))
}

fn precedence(ip: IpAddr) -> u8 {
    policy(ip).0
}

fn label_matches(c: &Candidate) -> bool {
    c.source.is_some_and(|s| policy(s).1 == policy(c.dest).1)
}

/// RFC 6724 3.1 and 3.2: link-local (2) for IPv4 loopback and 169.254/16 and IPv6 loopback and
/// fe80::/10, site-local (5) for fec0::/10, global (14) otherwise.
fn scope(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_loopback() || v4.is_link_local() {
                2
            } else {
                14
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_multicast() {
                v6.octets()[1] & 0x0f
            } else if v6.is_loopback()
                || in_prefix(v6, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10)
            {
                2
            } else if in_prefix(v6, Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10) {
                5
            } else {
                14
            }
        }
    }
}

fn scope_matches(c: &Candidate) -> bool {
    c.source.is_some_and(|s| scope(s) == scope(c.dest))
}

/// Bits the destination shares with its source: for IPv6 all leading bits (up to 64, as
/// glibc counts them); for IPv4 only inside the source's subnet, else none.
fn common_prefix(c: &Candidate) -> Option<u32> {
    match (c.dest, c.source?) {
        (IpAddr::V4(d), IpAddr::V4(s)) => {
            let len = u32::from(c.source_prefix.unwrap_or(32).min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let (d, s) = (u32::from(d), u32::from(s));
            Some(if d & mask == s & mask {
                (d ^ s).leading_zeros()
            } else {
                0
            })
        }
        (IpAddr::V6(d), IpAddr::V6(s)) => {
            Some((u128::from(d) ^ u128::from(s)).leading_zeros().min(64))
        }
        _ => None,
    }
}

/// The source address the kernel picks for `dest`: connect a UDP socket (no packet is sent).
fn source_for(dest: IpAddr, port: u16) -> Option<IpAddr> {
    let bind: SocketAddr = match dest {
        IpAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.connect(SocketAddr::new(dest, port.max(1))).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

/// The prefix length of the interface that holds `source` (its netmask).
fn interface_prefix(source: IpAddr) -> Option<u8> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below with freeifaddrs;
    // every pointer read is checked for null first.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut found = None;
        let mut cur = list;
        while !cur.is_null() && found.is_none() {
            let ifa = &*cur;
            if let (Some(addr), Some(mask)) =
                (sockaddr_ip(ifa.ifa_addr), sockaddr_ip(ifa.ifa_netmask))
                && addr == source
            {
                found = Some(match mask {
                    IpAddr::V4(m) => u32::from(m).leading_ones() as u8,
                    IpAddr::V6(m) => u128::from(m).leading_ones() as u8,
                });
            }
            cur = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
        found
    }
}

/// The IP address in a `sockaddr`, when it is IPv4 or IPv6.
///
/// # Safety
/// `sa` is null or points to a valid `sockaddr` of the family it says.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees `sa` is a valid sockaddr; the family says which
    // struct it is.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let v4 = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()))
            }
            libc::AF_INET6 => {
                let v6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::from(v6.sin6_addr.s6_addr))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn cand(dest: &str, source: Option<&str>, prefix: u8) -> Candidate {
        Candidate {
            dest: ip(dest),
            source: source.map(ip),
            source_prefix: Some(prefix),
        }
    }

    fn order(cands: Vec<Candidate>) -> Vec<String> {
        let answer: Vec<IpAddr> = cands.iter().map(|c| c.dest).collect();
        sort_candidates(cands, &answer)
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Each case is what glibc's getaddrinfo returned for the same answer on this machine
    /// (names in a scratch /etc/hosts, then restored).
    #[test]
    fn glibc_orders_seen_on_a_real_machine() {
        // Rule 9 inside the loopback subnet.
        let got = order(vec![
            cand("127.0.0.2", Some("127.0.0.1"), 8),
            cand("127.0.0.1", Some("127.0.0.1"), 8),
        ]);
        assert_eq!(got, ["127.0.0.1", "127.0.0.2"]);
        // Rule 8: loopback (link-local scope) before a global address.
        let got = order(vec![
            cand("10.1.2.3", Some("10.0.0.2"), 24),
            cand("127.0.0.5", Some("127.0.0.1"), 8),
        ]);
        assert_eq!(got, ["127.0.0.5", "10.1.2.3"]);
        // Rule 6: ::1 (precedence 50) before IPv4 (35).
        let got = order(vec![
            cand("127.0.0.1", Some("127.0.0.1"), 8),
            cand("::1", Some("::1"), 128),
        ]);
        assert_eq!(got, ["::1", "127.0.0.1"]);
    }

    #[test]
    fn ipv6_first_only_with_a_route() {
        let with_route = order(vec![
            cand("192.0.2.1", Some("10.0.0.2"), 24),
            cand("2001:db8::1", Some("2001:db8::2"), 64),
        ]);
        assert_eq!(with_route, ["2001:db8::1", "192.0.2.1"]);
        // Teredo (2001::/32, precedence 5) goes after IPv4 (35).
        let teredo = order(vec![
            cand("2001:0:53aa:64c::1", Some("2001:0:53aa:64c::2"), 64),
            cand("192.0.2.1", Some("10.0.0.2"), 24),
        ]);
        assert_eq!(teredo, ["192.0.2.1", "2001:0:53aa:64c::1"]);
        let no_route = order(vec![
            cand("2a00::1", None, 0),
            cand("192.0.2.1", Some("10.0.0.2"), 24),
        ]);
        assert_eq!(no_route, ["192.0.2.1", "2a00::1"]);
    }

    #[test]
    fn equal_candidates_keep_the_answers_order_and_say_nothing() {
        let cands = vec![
            cand("192.0.2.7", Some("10.0.0.2"), 24),
            cand("192.0.2.3", Some("10.0.0.2"), 24),
        ];
        let answer: Vec<IpAddr> = cands.iter().map(|c| c.dest).collect();
        let (sorted, why) = sort_candidates(cands, &answer);
        assert_eq!(sorted, answer);
        assert_eq!(why, None);
    }

    #[test]
    fn the_real_source_of_loopback_is_loopback() {
        assert_eq!(source_for(ip("127.0.0.2"), 80), Some(ip("127.0.0.1")));
        assert_eq!(interface_prefix(ip("127.0.0.1")), Some(8));
    }
}
