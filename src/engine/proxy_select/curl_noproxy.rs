//! curl's `--noproxy LIST`, which replaces NO_PROXY for a `--proxy` and an environment proxy
//! alike: exactly `*` matches every host. Otherwise entries separated by commas (blanks around
//! them skipped; a blank in the middle ends the list, as in curl). Names match
//! case-insensitively, ignoring a leading dot in the entry and a trailing dot on either side,
//! exactly or as a dot-separated suffix (`corp.test` matches `www.corp.test`, not
//! `notcorp.test`); ports are not part of it. IP hosts match IP entries, optionally in CIDR
//! notation (IPv4 and IPv6; `[::1]` is accepted for `::1`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{HostKind, Target};

/// `--noproxy LIST` for this target: the reason to go direct when an entry matches. A list
/// that a blank cut short gets a note either way, since curl silently ignores the rest.
pub(super) fn noproxy_flag_reason(
    target: &Target,
    list: &str,
    notes: &mut Vec<String>,
) -> Option<String> {
    let m = curl_noproxy(target, list);
    if let Some(rest) = &m.ignored {
        notes.push(format!(
            "--noproxy: curl stops reading the list at '{rest}' (entries are separated by commas, not blanks)"
        ));
    }
    let entry = m.matched?;
    Some(if entry == "*" {
        "no proxy: --noproxy '*' turns proxies off for every host".to_string()
    } else {
        format!(
            "no proxy: --noproxy entry '{entry}' matches {}",
            target.display_host()
        )
    })
}

/// What curl makes of `--noproxy LIST` for one host.
struct CurlNoProxy {
    /// The entry that matched (`*` for the whole-list wildcard).
    matched: Option<String>,
    /// The rest of the list after a blank that ended it.
    ignored: Option<String>,
}

/// curl's `check_noproxy`: the list read entry by entry, stopping at a blank.
fn curl_noproxy(target: &Target, list: &str) -> CurlNoProxy {
    if list == "*" {
        return CurlNoProxy {
            matched: Some("*".into()),
            ignored: None,
        };
    }
    let blank = |c: char| c == ' ' || c == '\t';
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches(blank);
        let end = rest
            .find(|c: char| blank(c) || c == ',')
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if !token.is_empty() && curl_token_matches(target, token) {
            return CurlNoProxy {
                matched: Some(token.to_string()),
                ignored: None,
            };
        }
        rest = rest[end..].trim_start_matches(blank);
        if !rest.starts_with(',') {
            return CurlNoProxy {
                matched: None,
                ignored: (!rest.is_empty()).then(|| rest.to_string()),
            };
        }
        rest = rest.trim_start_matches(',');
    }
}

fn curl_token_matches(target: &Target, token: &str) -> bool {
    match target.kind {
        HostKind::Name => {
            let name = target.hostname.as_bytes();
            let name = name.strip_suffix(b".").unwrap_or(name);
            let tok = token.as_bytes();
            let tok = tok.strip_suffix(b".").unwrap_or(tok);
            let tok = tok.strip_prefix(b".").unwrap_or(tok);
            if tok.len() == name.len() {
                tok.eq_ignore_ascii_case(name)
            } else if tok.len() < name.len() {
                let at = name.len() - tok.len();
                name[at - 1] == b'.' && tok.eq_ignore_ascii_case(&name[at..])
            } else {
                false
            }
        }
        HostKind::V4(ip) => {
            let (addr, bits) = split_bits(token);
            let Ok(net) = addr.parse::<Ipv4Addr>() else {
                return false;
            };
            match bits {
                b if b > 32 => false,
                0 | 32 => ip == net,
                b => (u32::from(ip) ^ u32::from(net)) >> (32 - b) == 0,
            }
        }
        HostKind::V6(ip) => {
            let (addr, bits) = split_bits(token);
            let addr = addr
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(addr);
            let Ok(net) = addr.parse::<Ipv6Addr>() else {
                return false;
            };
            match bits {
                b if b > 128 => false,
                0 | 128 => ip == net,
                b => (u128::from(ip) ^ u128::from(net)) >> (128 - b) == 0,
            }
        }
    }
}

/// `addr/bits` with curl's atoi (garbage reads as 0, meaning an exact match; negative values
/// are huge and never match).
fn split_bits(token: &str) -> (&str, u64) {
    match token.split_once('/') {
        None => (token, 0),
        Some((addr, bits)) => {
            let bits = bits.trim_start();
            let (neg, digits) = match bits.as_bytes().first() {
                Some(b'-') => (true, &bits[1..]),
                Some(b'+') => (false, &bits[1..]),
                _ => (false, bits),
            };
            let n = digits
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
            (addr, if neg && n != 0 { u64::MAX } else { n })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::proxy_select::test_support::*;

    #[test]
    fn flag_noproxy_uses_curls_matching_and_replaces_no_proxy() {
        let e = [("HTTPS_PROXY", P), ("NO_PROXY", "corp.test")];
        // --noproxy given: NO_PROXY no longer counts.
        let c = with_flags("https://corp.test/", None, Some("other"), &e).unwrap();
        assert!(c.proxy.is_some());
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("--noproxy replaces NO_PROXY")),
            "{:?}",
            c.notes
        );
        let c = with_flags("https://www.corp.test./", None, Some(".corp.test."), &e).unwrap();
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy: --noproxy entry '.corp.test.' matches www.corp.test."
        );
        let c = with_flags("https://notcorp.test/", None, Some("corp.test"), &e).unwrap();
        assert!(c.proxy.is_some());
        let c = with_flags("https://b.test/", Some("p:1"), Some("*"), &[]).unwrap();
        assert_eq!(
            c.reason,
            "no proxy: --noproxy '*' turns proxies off for every host"
        );
        // Blanks end curl's list.
        let c = with_flags("https://b.test/", Some("p:1"), Some("a.test b.test"), &[]).unwrap();
        assert!(c.proxy.is_some());
        assert!(
            c.notes.iter().any(|n| n.contains("stops reading")),
            "{:?}",
            c.notes
        );
        let c = with_flags(
            "https://b.test/",
            Some("p:1"),
            Some(" a.test , b.test"),
            &[],
        )
        .unwrap();
        assert_eq!(c.proxy, None);
        // IPs: CIDR both families; names never match IPs; ports are not part of curl's match.
        assert_eq!(
            with_flags("http://10.1.2.3/", Some("p:1"), Some("10.0.0.0/8"), &[])
                .unwrap()
                .proxy,
            None
        );
        assert!(
            with_flags("http://10.1.2.3/", Some("p:1"), Some("10.1.2.4"), &[])
                .unwrap()
                .proxy
                .is_some()
        );
        assert_eq!(
            with_flags(
                "http://[2001:db8::5]/",
                Some("p:1"),
                Some("2001:db8::/32"),
                &[]
            )
            .unwrap()
            .proxy,
            None
        );
        assert_eq!(
            with_flags("http://[::1]/", Some("p:1"), Some("[::1]"), &[])
                .unwrap()
                .proxy,
            None
        );
        assert!(
            with_flags("http://h:8080/", Some("p:1"), Some("h:8080"), &[])
                .unwrap()
                .proxy
                .is_some()
        );
        // An empty --noproxy matches nothing but still switches NO_PROXY off.
        let c = with_flags("https://corp.test/", None, Some(""), &e).unwrap();
        assert!(c.proxy.is_some());
    }
}
