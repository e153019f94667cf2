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
fn is_secret_header(name: &str) -> bool {
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
    for (name, value) in headers.iter().filter(|(n, _)| is_secret_header(n)) {
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
    found.retain(|s| s.chars().count() >= MIN_ECHOED_SECRET);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
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
    let rest = &raw[raw.find("://")? + 3..];
    let userinfo = &rest[..rest.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!password.is_empty()).then_some(password)
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
    if !is_secret_header(name) {
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
    let parsed = match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some(MASK));
            u.to_string()
        }
        _ => raw.to_string(),
    };
    mask_userinfo(&parsed)
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
    let start = token.find("://").map(|i| i + 3).unwrap_or(0);
    let authority = &token[start..];
    let Some(at) = authority.rfind('@') else {
        return token.to_string();
    };
    match authority[..at].split_once(':') {
        Some((user, pass)) if pass != MASK && !user.contains('/') => {
            format!("{}{user}:{MASK}{}", &token[..start], &authority[at..])
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
    }
}
