//! Secrets never reach a report: header values that carry credentials and URL passwords are
//! masked wherever reports and exports are built.

const MASK: &str = "***";

/// Shortest secret looked for where a server may echo it: shorter strings occur by chance.
const MIN_ECHOED_SECRET: usize = 4;

/// Authorization schemes shown before the mask ("Bearer ***"): the scheme is often what is
/// wrong. A first word that is not one of these may be the token itself.
const AUTH_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "digest",
    "negotiate",
    "ntlm",
    "hoba",
    "mutual",
    "vapid",
    "scram-sha-1",
    "scram-sha-256",
    "aws4-hmac-sha256",
    "token",
    "dpop",
    "gnap",
    "privatetoken",
];

/// Header names whose values are credentials.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // Challenges (WWW-Authenticate, Proxy-Authenticate) say which scheme is wanted: no secret.
    if n.ends_with("-authenticate") {
        return false;
    }
    n == "dpop"
        || [
            "auth",
            "token",
            "key",
            "secret",
            "pass",
            "session",
            "cookie",
            "jwt",
            "signature",
            "credential",
        ]
        .iter()
        .any(|word| n.contains(word))
}

/// A header whose name or value says it carries credentials: a secret name, or a value that
/// starts with an auth scheme ("Bearer …", "Basic …") whatever the header is called.
pub(crate) fn is_secret(name: &str, value: &str) -> bool {
    if is_secret_header(name) {
        return true;
    }
    if name.to_ascii_lowercase().ends_with("-authenticate") {
        return false;
    }
    value
        .trim()
        .split_once([' ', '\t'])
        .is_some_and(|(scheme, rest)| {
            !rest.trim().is_empty() && AUTH_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        })
}

/// The auth scheme a header value starts with, when it is a known one.
fn auth_scheme(name: &str, value: &str) -> Option<(String, String)> {
    let lower = name.to_ascii_lowercase();
    if lower != "authorization" && lower != "proxy-authorization" {
        return None;
    }
    let (scheme, rest) = value.trim().split_once(' ')?;
    AUTH_SCHEMES
        .contains(&scheme.to_ascii_lowercase().as_str())
        .then(|| (scheme.to_string(), rest.trim().to_string()))
}

/// Every form in which a server could echo the secrets of these headers: the value, the
/// credentials after the scheme, and for Basic the decoded `user:password` and the password;
/// for a cookie each value. Longest first, so a longer secret is masked before its parts.
pub(crate) fn echoable_secrets(headers: &[(String, String)]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (name, value) in headers.iter().filter(|(n, v)| is_secret(n, v)) {
        match auth_scheme(name, value) {
            // The scheme stays readable where the server echoes it ("Basic ***").
            Some((scheme, credentials)) => {
                if scheme.eq_ignore_ascii_case("basic")
                    && let Some(pair) = decode_basic(&credentials)
                {
                    found.extend(pair.split_once(':').map(|(_, pass)| pass.to_string()));
                    found.push(pair);
                }
                found.push(credentials);
            }
            None => {
                found.push(value.trim().to_string());
                if name.to_ascii_lowercase().contains("cookie") {
                    let pairs = value.split(';').filter_map(|c| c.split_once('='));
                    found.extend(pairs.map(|(_, v)| v.trim().to_string()));
                }
            }
        }
    }
    let mut forms: Vec<String> = found.iter().flat_map(|s| echo_forms(s)).collect();
    forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
    forms.dedup();
    forms
}

/// A secret as a server may write it back: as sent, JSON-escaped (`\"`, `\\`, and `\u00e4` as
/// Python's json.dumps writes non-ASCII), and percent-encoded (in a query or a Location).
/// Nothing shorter than [`MIN_ECHOED_SECRET`] characters.
pub(crate) fn echo_forms(secret: &str) -> Vec<String> {
    if secret.chars().count() < MIN_ECHOED_SECRET {
        return Vec::new();
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let ascii_json: String = json
        .encode_utf16()
        .map(|unit| match char::from_u32(u32::from(unit)) {
            Some(c) if c.is_ascii() => c.to_string(),
            _ => format!("\\u{unit:04x}"),
        })
        .collect();
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut forms = vec![
        secret.to_string(),
        json,
        ascii_json,
        form.replace('+', "%20"),
        form,
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// `user:password` from Basic credentials.
fn decode_basic(credentials: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The password of a URL as typed, `scheme://user:password@host…`, even when the URL does not
/// parse (a password with a space, a quote, `/`, `#`): everything from the first `:` of the
/// userinfo to the last `@`.
pub(crate) fn url_password(raw: &str) -> Option<&str> {
    raw.find("://")?;
    let (start, end) = password_span(raw)?;
    Some(&raw[start..end])
}

/// Where the password of `raw` (a URL as typed) lies: from the first `:` of the userinfo to
/// the last `@`. No password when what precedes the first `/ ? #` is a host and port: then the
/// `@` is in the path or query (`http://h:80/users/@bob`), as URL parsers read it too.
fn password_span(raw: &str) -> Option<(usize, usize)> {
    let after_scheme = raw.find("://").map(|i| i + 3).unwrap_or(0);
    let authority = &raw[after_scheme..];
    let at = authority.rfind('@')?;
    let first_separator = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    let head = &authority[..first_separator];
    if first_separator < at && !head.contains('@') && is_host_port(head) {
        return None;
    }
    let colon = authority[..at].find(':')?;
    if authority[..colon].contains(['/', '?', '#']) {
        return None;
    }
    let (start, end) = (after_scheme + colon + 1, after_scheme + at);
    (start < end).then_some((start, end))
}

/// `host`, `host:port` or `[v6]:port`: an authority without userinfo.
fn is_host_port(head: &str) -> bool {
    if head.starts_with('[') {
        return true;
    }
    match head.rsplit_once(':') {
        None => true,
        // A name or IPv4 address holds no `:` (IPv6 is bracketed), and a port is digits.
        Some((host, port)) => {
            !host.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// The values of query parameters whose names say they are credentials (`token=`, `api_key=`,
/// `sig=`, …) in a URL or a path with a query, as written (not decoded), to mask with
/// [`mask_echoes`] wherever they appear. Short values are kept back only when at least
/// [`MIN_ECHOED_SECRET`] long, so that masking does not eat unrelated text.
pub(crate) fn query_secrets(url_or_path: &str) -> Vec<String> {
    secret_params(url_or_path)
        .filter(|(_, value)| value.len() >= MIN_ECHOED_SECRET)
        .map(|(_, value)| value.to_string())
        .collect()
}

/// The credential parameters (name, value as written) of the query of a URL or a path.
fn secret_params(url_or_path: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = url_or_path.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, value)| !value.is_empty() && is_secret_param(name))
}

/// Whether a query parameter's name says its value is a credential (`token`, `api_key`,
/// `password`, `sig`, …).
fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    is_secret_header(&n) || n == "sig" || n == "code" || n == "pwd"
}

/// The query with the values of credential parameters masked in place, whatever their length;
/// None when it has none.
fn masked_query(query: &str) -> Option<String> {
    let mut found = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_param(name) => {
                found = true;
                format!("{name}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    found.then(|| pairs.join("&"))
}

/// Each credential parameter of the URL's query as sent (`password=PW1`) and as shown
/// (`password=***`): the pair is long enough to mask wherever it is quoted, even when the
/// value alone is too short to search for.
pub(crate) fn query_secret_pairs(url_or_path: &str) -> Vec<(String, String)> {
    secret_params(url_or_path)
        .map(|(name, value)| (format!("{name}={value}"), format!("{name}={MASK}")))
        .collect()
}

/// A request target (`/path?query`) with the values of credential parameters masked.
pub(crate) fn request_target(target: &str) -> String {
    match target.split_once('?') {
        Some((path, query)) => match masked_query(query) {
            Some(q) => format!("{path}?{q}"),
            None => target.to_string(),
        },
        None => target.to_string(),
    }
}

/// A URL as [`url`] shows it but with its query untouched: for an export, which must send the
/// query as given (its password still goes to an environment variable).
pub(crate) fn url_password_only(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.host().is_some() => {
            if u.password().is_none() {
                return raw.to_string();
            }
            let _ = u.set_password(Some(MASK));
            u.to_string()
        }
        // Not parsed: `url` masks the password as typed and leaves queries alone.
        _ => url(raw),
    }
}

/// `text` with every secret in `secrets` masked.
pub(crate) fn mask_echoes(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// The value to show for a header: secrets masked, keeping an auth scheme ("Bearer ***") since
/// the scheme is often what is wrong.
pub(crate) fn header_value(name: &str, value: &str) -> String {
    if !is_secret(name, value) {
        // A redirect target may carry `user:password@`.
        return match name.to_ascii_lowercase().as_str() {
            "location" | "content-location" | "refresh" | "link" => url(value),
            _ => value.to_string(),
        };
    }
    match auth_scheme(name, value) {
        Some((scheme, _)) => format!("{scheme} {MASK}"),
        None => MASK.to_string(),
    }
}

pub(crate) fn headers(list: &[(String, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.clone(), header_value(k, v)))
        .collect()
}

/// A URL with its password masked. Also for strings that are not valid URLs (they appear in
/// error messages): any `user:password@` right after `://` is masked.
pub(crate) fn url(raw: &str) -> String {
    match url::Url::parse(raw) {
        // A URL that parses with a host: its parser says where the password is, and nothing
        // else is one (`http://h:80/x?mail=bob@y` has none).
        Ok(mut u) if u.host().is_some() => {
            let query = u.query().and_then(masked_query);
            if u.password().is_none() && query.is_none() {
                return raw.to_string();
            }
            if u.password().is_some() {
                let _ = u.set_password(Some(MASK));
            }
            if let Some(q) = query {
                u.set_query(Some(&q));
            }
            u.to_string()
        }
        // A URL that does not parse (a password with a space or a quote), a scheme netpeel
        // does not know (`htp:://u:p@h` parses as a path), or a sentence that quotes URLs: the
        // whole text's password as typed, then every URL-looking token.
        _ => {
            let masked = match password_span(raw) {
                Some((start, end)) if raw.contains("://") && &raw[start..end] != MASK => {
                    format!("{}{MASK}{}", &raw[..start], &raw[end..])
                }
                _ => raw.to_string(),
            };
            mask_userinfo(&masked)
        }
    }
}

/// Mask `user:password@` in every URL-looking token of `text`. The password may hold `/ ? #`
/// (then the URL does not parse), so the userinfo runs to the *last* `@` of the token; a path
/// with both `:` and `@` gets over-masked, which is the safe side.
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let token_end = rest
            .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(rest.len());
        out.push_str(&mask_token(&rest[..token_end]));
        let sep_end = rest[token_end..]
            .find(|c: char| !(c.is_whitespace() || c == '\'' || c == '"'))
            .map(|i| token_end + i)
            .unwrap_or(rest.len());
        out.push_str(&rest[token_end..sep_end]);
        rest = &rest[sep_end..];
    }
    out
}

fn mask_token(token: &str) -> String {
    // After "scheme://", or from the start for a URL typed without a scheme.
    match password_span(token) {
        Some((start, end)) if &token[start..end] != MASK => {
            format!("{}{MASK}{}", &token[..start], &token[end..])
        }
        _ => token.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked() {
        assert_eq!(
            header_value("Authorization", "Bearer abc.def"),
            "Bearer ***"
        );
        assert_eq!(
            header_value("proxy-authorization", "Basic dXNlcjpwYXNz"),
            "Basic ***"
        );
        assert_eq!(header_value("Cookie", "sid=42"), "***");
        assert_eq!(header_value("X-Auth-Token", "t0k3n"), "***");
        assert_eq!(header_value("X-Auth", "t0k3n"), "***");
        assert_eq!(header_value("Apikey", "t0k3n"), "***");
        assert_eq!(
            header_value("Proxy-Authenticate", "Basic realm=\"x\""),
            "Basic realm=\"x\""
        );
        assert_eq!(header_value("Accept", "*/*"), "*/*");
        // No known scheme: the first word may be the token itself.
        assert_eq!(header_value("Authorization", "abc123 tail"), "***");
        assert_eq!(header_value("Authorization", "Token abc123"), "Token ***");
        for name in [
            "X-JWT",
            "DPoP",
            "X-Signature",
            "X-Hub-Signature",
            "X-Credentials",
            "Cookie2",
            "Set-Cookie2",
            "X-Passphrase",
            "X-Pass",
        ] {
            assert_eq!(header_value(name, "s3cr3t"), "***", "{name}");
        }
    }

    #[test]
    fn echoed_secrets_are_found_in_every_form_and_masked() {
        let sent = vec![
            (
                "Authorization".to_string(),
                "Basic Ym9iOmh1bnRlcjI=".to_string(),
            ),
            ("Cookie".to_string(), "sid=abcd1234; theme=dark".to_string()),
            ("X-Api-Key".to_string(), "k3y-v4lue".to_string()),
            ("Accept".to_string(), "text/plain-secretless".to_string()),
        ];
        let secrets = echoable_secrets(&sent);
        for s in [
            "Ym9iOmh1bnRlcjI=",
            "bob:hunter2",
            "hunter2",
            "abcd1234",
            "k3y-v4lue",
        ] {
            assert!(secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
        // "dark" is a cookie value of four letters: masked too (the safe side).
        assert!(!secrets.iter().any(|x| x.contains("text/plain")));
        let echoed = r#"{"headers": {"Authorization": "Basic Ym9iOmh1bnRlcjI=", "X-Api-Key": "k3y-v4lue", "Cookie": "sid=abcd1234"}, "user": "bob:hunter2"}"#;
        let masked = mask_echoes(echoed, &secrets);
        // As a server may write it back: JSON-escaped, non-ASCII as \u, percent-encoded.
        let forms = echo_forms("p\u{e4}ss\"w\\rd=");
        for echoed in [
            r#"p\u00e4ss\"w\\rd="#,
            "p\u{e4}ss\\\"w\\\\rd=",
            "p%C3%A4ss%22w%5Crd%3D",
        ] {
            assert!(
                forms.iter().any(|f| f == echoed),
                "{echoed} not in {forms:?}"
            );
        }
        for s in ["Ym9iOmh1bnRlcjI=", "hunter2", "abcd1234", "k3y-v4lue"] {
            assert!(!masked.contains(s), "{s} in {masked}");
        }
        assert!(
            masked.contains(r#""Authorization": "Basic ***""#),
            "{masked}"
        );
    }

    #[test]
    fn passwords_of_urls_that_do_not_parse_are_found() {
        assert_eq!(url_password("http://bob:pa ss'wd@h/"), Some("pa ss'wd"));
        assert_eq!(url_password("http://bob:a/b#c@h"), Some("a/b#c"));
        assert_eq!(url_password("http://bob@h"), None);
        assert_eq!(url_password("http://h/x"), None);
        assert_eq!(
            header_value("Location", "http://u:pw@h/next"),
            "http://u:***@h/next"
        );
    }

    #[test]
    fn query_credentials_are_masked_in_a_shown_url_whatever_their_length() {
        assert_eq!(
            url("https://h/x?page=2&password=PW1&api_key=abcdef&q=ok"),
            "https://h/x?page=2&password=***&api_key=***&q=ok"
        );
        assert_eq!(
            url("https://bob:pw@h/x?token=t"),
            "https://bob:***@h/x?token=***"
        );
        assert_eq!(url("https://h/x?page=2&q="), "https://h/x?page=2&q=");
        // An export sends the query as given.
        assert_eq!(
            url_password_only("https://bob:pw@h/x?token=t"),
            "https://bob:***@h/x?token=t"
        );
        assert_eq!(
            url_password_only("https://h/x?token=t"),
            "https://h/x?token=t"
        );
    }

    #[test]
    fn query_credentials_are_found() {
        assert_eq!(
            query_secrets("/v1/items?page=2&token=s3cr3t&api_key=abcd&sig=x"),
            vec!["s3cr3t".to_string(), "abcd".to_string()]
        );
        assert!(query_secrets("/v1/items?page=2").is_empty());
        assert!(query_secrets("no query").is_empty());
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            url("https://bob:hunter2@corp.test/x"),
            "https://bob:***@corp.test/x"
        );
        assert_eq!(url("https://corp.test/x"), "https://corp.test/x");
        assert_eq!(url("https://corp.test/a:b@c"), "https://corp.test/a:b@c");
        assert_eq!(
            url("no host in URL 'http://u:pw@'"),
            "no host in URL 'http://u:***@'"
        );
        assert_eq!(url("htp:://bob:hunter2@x"), "htp:://bob:***@x");
        // An `@` in the path or query is no userinfo, parsed or not.
        let mail = "http://127.0.0.1:18080/x?email=bob@example.test";
        assert_eq!(url(mail), mail);
        let at_path = "http://127.0.0.1:18080/users/@alice";
        assert_eq!(url(at_path), at_path);
        assert_eq!(url(&format!("see {mail} now")), format!("see {mail} now"));
        assert_eq!(
            url("http://bob:pw@127.0.0.1:1/a:b@c"),
            "http://bob:***@127.0.0.1:1/a:b@c"
        );
        // Short passwords, with a space or a quote: the URL does not parse.
        assert_eq!(
            url("http://bob:a b@[::1:18080/"),
            "http://bob:***@[::1:18080/"
        );
        assert_eq!(url("http://bob:a'b@[::1/x"), "http://bob:***@[::1/x");
        assert_eq!(url("http://bob:p/s#x@[::1/x"), "http://bob:***@[::1/x");
    }
}
