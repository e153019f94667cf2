//! HTTP dates: the subset of Python's `email.utils.parsedate_tz` that HTTP servers send, as
//! urllib3 reads a date-valued `Retry-After`. Zones are GMT, UT, UTC, Z or ±hhmm; other zone
//! names are refused rather than guessed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let l = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| l.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let sec = it.next().map_or(Some(0), |x| x.parse().ok())?;
    if it.next().is_some() || h > 23 || m > 59 || sec > 61 {
        return None;
    }
    Some((h, m, sec))
}

/// Offset east of UTC in seconds; unknown zone names are rejected.
fn zone(s: Option<&str>) -> Option<i64> {
    let Some(z) = s else { return Some(0) };
    match z.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => Some(0),
        _ => {
            let (sign, digits) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let v: i64 = digits.parse().ok()?;
            Some(sign * ((v / 100) * 3600 + (v % 100) * 60))
        }
    }
}

fn year(y: &str) -> Option<i64> {
    let v: i64 = y.parse().ok()?;
    // email.utils: two-digit years > 68 are 19xx, else 20xx.
    Some(match (y.len(), v) {
        (1 | 2, v) if v > 68 => 1900 + v,
        (1 | 2, v) => 2000 + v,
        (_, v) => v,
    })
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, weekday optional), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    // Drop a leading weekday ("Sun," / "Sunday,").
    let rest = match s.split_once(',') {
        Some((wd, rest)) if wd.chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => s,
    };
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let (y, mo, d, (h, mi, se), off) = match parts.as_slice() {
        // 06 Nov 1994 08:49:37 [GMT]
        [d, m, y, t, z @ ..] if d.bytes().all(|b| b.is_ascii_digit()) && z.len() <= 1 => (
            year(y)?,
            month(m)?,
            d.parse().ok()?,
            hms(t)?,
            zone(z.first().copied())?,
        ),
        // 06-Nov-94 08:49:37 GMT
        [dmy, t, z @ ..] if dmy.contains('-') && z.len() <= 1 => {
            let mut it = dmy.split('-');
            let d = it.next()?.parse().ok()?;
            let m = month(it.next()?)?;
            let y = year(it.next()?)?;
            (y, m, d, hms(t)?, zone(z.first().copied())?)
        }
        // Sun Nov  6 08:49:37 1994
        [wd, m, d, t, y] if wd.chars().all(|c| c.is_ascii_alphabetic()) => {
            (year(y)?, month(m)?, d.parse().ok()?, hms(t)?, 0)
        }
        _ => return None,
    };
    if !(1..=31).contains(&d) {
        return None;
    }
    let unix = days_from_civil(y, mo, d) * 86400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(se)
        - off;
    let unix = u64::try_from(unix).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(s: &str) -> Option<u64> {
        parse_http_date(s).and_then(|t| t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs()))
    }

    #[test]
    fn the_three_formats_and_offsets() {
        assert_eq!(unix("Wed, 21 Oct 2015 07:28:00 GMT"), Some(1445412480));
        assert_eq!(unix("Wednesday, 21-Oct-15 07:28:00 GMT"), Some(1445412480));
        assert_eq!(unix("Wed Oct 21 07:28:00 2015"), Some(1445412480));
        assert_eq!(unix("21 Oct 2015 07:28:00 UTC"), Some(1445412480));
        assert_eq!(unix("Wed, 21 Oct 2015 07:28:00 +0200"), Some(1445405280));
        assert_eq!(unix("Wed, 21 Oct 2015 07:28:00 -0030"), Some(1445414280));
    }

    #[test]
    fn two_digit_years_follow_email_utils() {
        assert_eq!(year("69"), Some(1969));
        assert_eq!(year("68"), Some(2068));
        assert_eq!(year("1994"), Some(1994));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 CEST",
            "Wed, 21 Oct 2015 07:28:00 +02",
            "Thu, 01 Jan 1900 00:00:00 GMT",
            "120",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
