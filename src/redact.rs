//! Secrets never reach a report: header values that carry credentials and URL passwords are
//! masked wherever reports and exports are built.

const MASK: &str = "***";

/// Header names whose values are credentials.
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // Challenges (WWW-Authenticate, Proxy-Authenticate) say which scheme is wanted: no secret.
    if n.ends_with("-authenticate") {
        return false;
    }
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key" | "api-key"
    ) || n.contains("token")
        || n.contains("auth")
        || n.contains("key")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("session")
}

/// The value to show for a header: secrets masked, keeping an auth scheme ("Bearer ***") since
/// the scheme is often what is wrong.
pub(crate) fn header_value(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_string();
    }
    let lower = name.to_ascii_lowercase();
    if (lower == "authorization" || lower == "proxy-authorization")
        && let Some((scheme, _)) = value.trim().split_once(' ')
    {
        return format!("{scheme} {MASK}");
    }
    MASK.to_string()
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
