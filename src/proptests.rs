//! Property tests of what netpeel reads from the user: URLs and command lines. Whatever they
//! hold, parsing never panics, an error is one line, and no password survives redaction. The
//! case count is fixed (bounded time in CI); `PROPTEST_CASES` raises it for a longer fuzz.

use proptest::prelude::*;

use crate::cli::{Args, replay_settings, settings_from};
use crate::engine::target::parse_target;
use crate::redact;
use crate::report::escape::for_terminal;

/// URL-looking text: a scheme or not, userinfo, hosts, ports, paths, every odd character.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just(""),
        Just("http://"),
        Just("https://"),
        Just("HTTP://"),
        Just("htp://"),
        Just("//"),
        Just("http:"),
    ];
    let rest =
        "[a-zA-Z0-9:/@?#\\[\\]%._~!$&'()*+,;= \\\\\u{0}-\u{1f}\u{7f}\u{80}-\u{9f}\u{202e}é-]{0,48}";
    (scheme, rest).prop_map(|(s, r)| format!("{s}{r}"))
}

/// A flag value: numbers in every spelling, lists, URLs, control characters.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,25}(\\.[0-9]{0,8})?(e-?[0-9]{1,3})?",
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("none".to_string()),
        "[a-zA-Z0-9,:;=@/ \n\r\t-]{0,24}",
        url_like(),
    ]
}

const FLAGS: &[&str] = &[
    "--connect-timeout",
    "--read-timeout",
    "--dns-timeout",
    "-m",
    "--dns",
    "--resolve",
    "--proxy",
    "--noproxy",
    "-X",
    "-H",
    "--max-redirects",
    "--max-body",
    "--retries",
    "--connect-retries",
    "--read-retries",
    "--status-retries",
    "--backoff-factor",
    "--backoff-max",
    "--backoff-jitter",
    "--status-forcelist",
    "--allowed-methods",
    "--retry-policy",
    "--export",
    "--format",
    "--cacert",
];

/// 2,000 cases a test (about a second each in CI), or `PROPTEST_CASES` for a longer fuzz.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn command_line() -> impl Strategy<Value = Vec<String>> {
    let pair = (proptest::sample::select(FLAGS), value());
    (proptest::collection::vec(pair, 0..5), url_like()).prop_map(|(pairs, url)| {
        let mut args = vec!["netpeel".to_string()];
        for (flag, v) in pairs {
            args.push(flag.to_string());
            args.push(v);
        }
        args.push(url);
        args
    })
}

/// Paste-looking text: pieces of real error wording in any order, among odd characters.
fn paste_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("requests.exceptions.ConnectionError: ".to_string()),
        Just("HTTPSConnectionPool(host='".to_string()),
        Just("', port=".to_string()),
        Just("Max retries exceeded with url: ".to_string()),
        Just(" (Caused by NewConnectionError(".to_string()),
        Just("[Errno 111] Connection refused".to_string()),
        Just("curl: (7) Failed to connect to ".to_string()),
        Just(" port ".to_string()),
        Just("$ curl -x ".to_string()),
        Just("\n".to_string()),
        Just("\\n".to_string()),
        Just("{\"msg\": \"".to_string()),
        Just("2026-11-25 22:40:01,123 ERROR ".to_string()),
        Just("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ".to_string()),
        Just("Failed to parse: http://".to_string()),
        Just("?token=".to_string()),
        "[a-zA-Z0-9:/@?#%._ '\"()\\[\\]{}\\\\\u{0}-\u{1f}\u{7f}\u{80}-\u{9f}\u{202e}é-]{0,24}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_url_parses_or_fails_with_a_url_error(input in url_like()) {
        match parse_target(&input) {
            Ok(t) => {
                prop_assert!(!t.display_url().is_empty());
            }
            Err(e) => prop_assert!(!for_terminal(&e.message).contains('\n')),
        }
    }

    #[test]
    fn a_password_never_survives_redaction(
        user in "[a-z]{1,8}",
        // A password starting with a digit and then `/` would read as a port (`u:12/x@h`), as
        // URL parsers read it too: not a password.
        password in "[a-zA-Z '\"!%:-][a-zA-Z0-9 '\"/#?@!%:-]{3,15}",
        host in prop_oneof![Just("127.0.0.1:8080"), Just("[::1"), Just("h.test"), Just("h.test:x")],
        tail in "[a-z/?=@:]{0,12}",
    ) {
        let url = format!("http://{user}:{password}@{host}/{tail}");
        let shown = redact::url(&url);
        prop_assert!(!shown.contains(&format!(":{password}@")), "{url} -> {shown}");
    }

    #[test]
    fn any_command_line_is_settings_or_a_one_line_error(args in command_line()) {
        let env = |_: &str| None::<String>;
        if let Ok(parsed) = <Args as clap::Parser>::try_parse_from(&args) {
            match settings_from(&parsed, &env, Vec::new()) {
                Ok(settings) => {
                    if let Err(e) = replay_settings(&parsed, &settings) {
                        prop_assert!(!for_terminal(&e).contains('\n'));
                    }
                }
                Err(e) => prop_assert!(!for_terminal(&e).contains('\n')),
            }
        }
    }

    #[test]
    fn any_paste_is_explained_or_refused_and_printed_escaped(paste in paste_like()) {
        use crate::report::model::{Comparison, ComparisonReport};
        if let Some(e) = crate::explain::explain(&paste, false) {
            let none = ComparisonReport {
                outcome: Comparison::NotProbed,
                summary: "not probed".into(),
                suggestions: Vec::new(),
            };
            let x = crate::report::explain::build(&e, none);
            let text = crate::report::explain::render_alone(
                &x,
                crate::report::text::Style { color: false },
            );
            let raw_control = text.chars().any(|c| {
                (c.is_control() && c != '\n') || c == '\u{202e}'
            });
            prop_assert!(!raw_control, "{text:?}");
        }
    }
}
