//! NO_PROXY as requests applies it to an environment proxy (`should_bypass_proxies`): two
//! independent checks, either one bypasses.
//!
//! 1. requests' own: the value of `no_proxy`, or of `NO_PROXY` when `no_proxy` is unset or
//!    empty. ALL spaces are removed, then split on commas. An IPv4 host (anything
//!    `inet_aton` accepts) matches a CIDR entry containing it (`10.0.0.0/8`; `is_valid_cidr`:
//!    one `/`, mask 1–32, inet_aton address, so `10/8` means 0.0.0.10/8) or an entry equal to
//!    it as text. Any other host (names, IPv6 without brackets: `::1`) matches an entry, leading
//!    dots removed, that equals the host or `host:port` (port only when the URL has one), or
//!    is a dot-separated suffix of either. Case-sensitive.
//! 2. urllib's `proxy_bypass_environment` (what requests' `proxy_bypass` is on Linux), fed the
//!    `no` key of step 1 above (so `No_Proxy` counts and an empty `no_proxy` hides `NO_PROXY`):
//!    the value exactly `*` bypasses everything; otherwise comma-split, each entry trimmed,
//!    leading dots removed, lowercased, and compared with the host and with the host minus a
//!    trailing `:digits` (meant for a port, but the host never has one: it shortens an IPv6
//!    address, so `2001:db8:` matches `2001:db8::1`) for equality or dot-suffix. IP addresses
//!    are compared as text too: `2.3` matches `10.1.2.3`.
//!
//! Older requests releases matched requests' own entries as plain suffixes (`rp.test`
//! matched `corp.test`, psf/requests#4795); current ones need a dot boundary. The choice
//! carries a note when the difference matters.

use super::requests_env::{Env, EnvProxies};
use super::{HostKind, Target};

/// NO_PROXY excludes the target: why, and what else is worth saying about the entry.
pub(super) struct NoProxyMatch {
    /// "no proxy: NO_PROXY entry '.internal' matches api.internal"
    pub(super) sentence: String,
    pub(super) notes: Vec<String>,
}

/// `should_bypass_proxies(url, no_proxy=None)`.
pub(super) fn requests_no_proxy(
    target: &Target,
    env: &Env,
    proxies: &EnvProxies,
) -> Option<NoProxyMatch> {
    requests_own_check(target, env).or_else(|| urllib_check(target, proxies))
}

/// The `no_proxy` value requests' own loop reads: `no_proxy`, else `NO_PROXY`.
fn requests_no_proxy_var<'a>(env: &Env<'a>) -> Option<(&'static str, &'a str)> {
    match env.get("no_proxy") {
        Some(v) if !v.is_empty() => Some(("no_proxy", v)),
        _ => env.get("NO_PROXY").map(|v| ("NO_PROXY", v)),
    }
}

/// The loop in `should_bypass_proxies` itself.
fn requests_own_check(target: &Target, env: &Env) -> Option<NoProxyMatch> {
    let (var, value) = requests_no_proxy_var(env)?;
    if value.is_empty() {
        return None;
    }
    let host = &target.hostname;
    let shown_host = target.display_host();
    for original in value.split(',') {
        let entry = original.replace(' ', "");
        if entry.is_empty() {
            continue;
        }
        let mut notes = Vec::new();
        if original.trim_matches(' ').contains(' ') {
            notes.push(format!(
                "requests removes every space from {var}, so '{}' reads as '{entry}'",
                original.trim_matches(' ')
            ));
        }
        let sentence = if inet_aton(host).is_some() {
            if is_valid_cidr(&entry) {
                address_in_network(host, &entry)
                    .then(|| format!("no proxy: {var} entry '{entry}' contains {shown_host}"))
            } else {
                (*host == entry).then(|| format!("no proxy: {var} entry '{entry}' is {shown_host}"))
            }
        } else {
            let with_port = target.host_with_port();
            let bare = entry.trim_start_matches('.');
            let dotted = format!(".{bare}");
            if *host == bare || host.ends_with(&dotted) {
                Some(format!(
                    "no proxy: {var} entry '{entry}' matches {shown_host}"
                ))
            } else if with_port == bare || with_port.ends_with(&dotted) {
                Some(format!(
                    "no proxy: {var} entry '{entry}' matches {shown_host}:{}",
                    target.port.unwrap_or(0)
                ))
            } else {
                None
            }
        };
        if let Some(sentence) = sentence {
            return Some(NoProxyMatch { sentence, notes });
        }
    }
    None
}

/// `urllib.request.proxy_bypass_environment(hostname)`, fed getproxies_environment()'s `no`.
fn urllib_check(target: &Target, proxies: &EnvProxies) -> Option<NoProxyMatch> {
    let (var, value) = proxies.get("no")?;
    if value == "*" {
        return Some(NoProxyMatch {
            sentence: format!("no proxy: {var} is '*' (no proxy for any host)"),
            notes: Vec::new(),
        });
    }
    let host = target.hostname.to_lowercase();
    let hostonly = splitport(&host);
    let shown_host = target.display_host();
    for name in value.split(',') {
        let name = py_strip(name);
        if name.is_empty() {
            continue;
        }
        let bare = name.trim_start_matches('.').to_lowercase();
        let dotted = format!(".{bare}");
        let exact = hostonly == bare || host == bare;
        if !(exact || hostonly.ends_with(&dotted) || host.ends_with(&dotted)) {
            continue;
        }
        let how = match target.kind {
            HostKind::V4(_) if !exact => {
                " (urllib compares IP addresses as text, dot-suffix included)"
            }
            HostKind::V6(_) if !(host == bare || host.ends_with(&dotted)) => {
                " (urllib cuts ':digits' off an IPv6 address as if it were a port)"
            }
            _ => "",
        };
        return Some(NoProxyMatch {
            sentence: format!("no proxy: {var} entry '{name}' matches {shown_host}{how}"),
            notes: Vec::new(),
        });
    }
    None
}

/// urllib's `_splitport(host)[0]`: `(.*):([0-9]*)` — the part before the last ':' when only
/// digits follow it.
fn splitport(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..i],
        _ => host,
    }
}

/// Python's `str.strip()` (Unicode whitespace, plus the separators Python counts).
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// A note when older requests releases (plain suffix match, psf/requests#4795) would bypass.
pub(super) fn old_requests_note(target: &Target, env: &Env) -> Option<String> {
    let (var, value) = requests_no_proxy_var(env)?;
    if inet_aton(&target.hostname).is_some() {
        return None;
    }
    let with_port = target.host_with_port();
    value
        .replace(' ', "")
        .split(',')
        .filter(|e| !e.is_empty())
        .find(|e| target.hostname.ends_with(e) || with_port.ends_with(e))
        .map(|e| {
            format!(
                "older requests releases matched {var} entries as plain suffixes (psf/requests#4795) and would go direct: '{e}' is a suffix of {}",
                target.hostname
            )
        })
}

/// glibc `inet_aton`, as Python's `socket.inet_aton` (and so requests' `is_ipv4_address`)
/// uses it: 1–4 parts, decimal/octal/hex, the last part filling the remaining bytes, anything
/// after a whitespace character ignored.
fn inet_aton(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    loop {
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        let mut base = 10;
        let mut digits = 0;
        if b[i] == b'0' {
            base = 8;
            i += 1;
            digits = 1;
            if i < b.len() && (b[i] | 0x20) == b'x' {
                base = 16;
                i += 1;
                digits = 0;
            }
        }
        let mut val: u64 = 0;
        while i < b.len() {
            let d = match (b[i] as char).to_digit(16) {
                Some(d) if base == 16 => d,
                Some(d) if d < 10 && b[i].is_ascii_digit() => {
                    if base == 8 && d >= 8 {
                        return None;
                    }
                    d
                }
                _ => break,
            };
            val = val * base + u64::from(d);
            if val > 0xffff_ffff {
                return None;
            }
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        parts.push(val);
        if i < b.len() && b[i] == b'.' {
            if parts.len() > 3 {
                return None;
            }
            i += 1;
            continue;
        }
        break;
    }
    if i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let last = *parts.last()?;
    let (max_last, head) = match parts.len() {
        1 => (0xffff_ffff, &parts[..0]),
        2 => (0xff_ffff, &parts[..1]),
        3 => (0xffff, &parts[..2]),
        _ => (0xff, &parts[..3]),
    };
    if last > max_last || head.iter().any(|&p| p > 0xff) {
        return None;
    }
    let mut addr: u64 = 0;
    for (n, p) in head.iter().enumerate() {
        addr |= p << (24 - 8 * n);
    }
    Some((addr | last) as u32)
}

/// Python's `int(s)` for the few forms a CIDR mask can take (blanks, sign, `_` between digits).
fn py_int(s: &str) -> Option<i64> {
    let s = py_strip(s);
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let v = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    Some(if neg { -v } else { v })
}

/// requests' `is_valid_cidr`.
fn is_valid_cidr(s: &str) -> bool {
    if s.matches('/').count() != 1 {
        return false;
    }
    let (addr, mask) = s.split_once('/').unwrap_or((s, ""));
    matches!(py_int(mask), Some(1..=32)) && inet_aton(addr).is_some()
}

/// requests' `address_in_network` (only called after is_valid_cidr).
fn address_in_network(ip: &str, net: &str) -> bool {
    let (Some(ip), Some((addr, bits))) = (inet_aton(ip), net.split_once('/')) else {
        return false;
    };
    let (Some(network), Some(bits)) = (inet_aton(addr), py_int(bits)) else {
        return false;
    };
    let mask = u32::MAX
        .checked_shl(32 - bits.clamp(1, 32) as u32)
        .unwrap_or(0);
    ip & mask == network & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::proxy_select::test_support::*;

    #[test]
    fn no_proxy_names_need_a_dot_boundary_in_current_requests() {
        let c = pick(
            "https://api.internal/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", ".internal")],
        );
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy: NO_PROXY entry '.internal' matches api.internal"
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "rp.test")],
        );
        assert!(c.proxy.is_some());
        assert!(
            c.notes.iter().any(|n| n.contains("psf/requests#4795")),
            "{:?}",
            c.notes
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("no_proxy", ".corp.test")],
        );
        assert_eq!(c.proxy, None);
    }

    #[test]
    fn no_proxy_host_port_star_and_spaces() {
        let e = [("HTTPS_PROXY", P), ("NO_PROXY", "corp.test:8443")];
        assert_eq!(pick("https://corp.test:8443/", &e).proxy, None);
        assert!(pick("https://corp.test/", &e).proxy.is_some());
        assert_eq!(
            pick("https://x/", &[("HTTPS_PROXY", P), ("NO_PROXY", "*")]).proxy,
            None
        );
        assert!(
            pick("https://x/", &[("HTTPS_PROXY", P), ("NO_PROXY", "*,y")])
                .proxy
                .is_some()
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "co rp.test")],
        );
        assert_eq!(c.proxy, None);
        assert!(c.notes[0].contains("removes every space"), "{:?}", c.notes);
        // urllib's check lowercases, requests' own does not: either bypasses.
        assert_eq!(
            pick(
                "https://corp.test/",
                &[("HTTPS_PROXY", P), ("NO_PROXY", "Corp.TEST")]
            )
            .proxy,
            None
        );
        // no_proxy empty: requests' loop falls back to NO_PROXY.
        let c = pick(
            "https://corp.test/",
            &[
                ("HTTPS_PROXY", P),
                ("no_proxy", ""),
                ("NO_PROXY", "corp.test"),
            ],
        );
        assert_eq!(c.proxy, None);
    }

    #[test]
    fn no_proxy_ipv4_cidr_exact_and_text_suffix() {
        let e = |v: &'static str| [("HTTP_PROXY", P), ("NO_PROXY", v)];
        assert_eq!(pick("http://10.1.2.3/", &e("10.0.0.0/8")).proxy, None);
        assert!(pick("http://10.1.2.3/", &e("10.0.0.0/33")).proxy.is_some());
        assert!(
            pick("http://10.1.2.3/", &e("10/8")).proxy.is_some(),
            "10/8 is 0.0.0.10/8"
        );
        assert_eq!(pick("http://10.1.2.3:8080/", &e("10.1.2.3")).proxy, None);
        let c = pick("http://10.1.2.3/", &e("2.3"));
        assert_eq!(c.proxy, None);
        assert!(c.reason.contains("as text"), "{}", c.reason);
        assert!(
            pick("http://192.168.2.1/", &e("192.168.1.0/24"))
                .proxy
                .is_some()
        );
    }

    #[test]
    fn no_proxy_ipv6() {
        let e = |v: &'static str| [("HTTP_PROXY", P), ("NO_PROXY", v)];
        assert_eq!(pick("http://[::1]:8080/", &e("::1")).proxy, None);
        assert!(pick("http://[::1]:8080/", &e("[::1]")).proxy.is_some());
        assert_eq!(pick("http://[::1]:8080/", &e("::1:8080")).proxy, None);
        let c = pick("http://[2001:db8::1]/", &e("2001:db8:"));
        assert_eq!(c.proxy, None);
        assert!(c.reason.contains("as if it were a port"), "{}", c.reason);
    }

    #[test]
    fn inet_aton_like_glibc() {
        assert_eq!(inet_aton("1.2.3.4"), Some(0x01020304));
        assert_eq!(inet_aton("1.2.3.4 x"), Some(0x01020304));
        assert_eq!(inet_aton("0x7f.1"), Some(0x7f000001));
        assert_eq!(inet_aton("010.1"), Some(0x08000001));
        assert_eq!(inet_aton("1.16777215"), Some(0x01ffffff));
        assert_eq!(inet_aton("4294967295"), Some(u32::MAX));
        for bad in [
            "0x",
            "08",
            "4294967296",
            "1.2.3.256",
            "1.2.3.",
            "1..2",
            ".1",
            " 1",
            "1.2.3.4.5",
            "1.2.3.4x",
            "::1",
        ] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
        assert_eq!(py_int(" +2_4 "), Some(24));
        assert_eq!(py_int("2__4"), None);
        assert!(
            is_valid_cidr("10.0.0.0/8") && !is_valid_cidr("10.0.0.0/0") && !is_valid_cidr("a/8")
        );
    }
}
