//! Amounts of money kept exactly as the decimal the source wrote (`"13.57"`, `"0"`,
//! `"-0.68"`): read from the forms exporters write them in, checked, and summed without
//! rounding (no floating point anywhere).

/// What exporters write where there is no value.
pub fn absent(raw: &str) -> bool {
    let t = raw.trim();
    t.is_empty() || ["not available", "not applicable", "n/a", "na", "-", "--", "null", "none"].iter().any(|a| t.eq_ignore_ascii_case(a))
}

/// The most digits an amount may have (so that a sum of many cannot overflow).
const MAX_DIGITS: usize = 24;

/// An amount as the plain decimal it is: `'-0.68'` (Amazon quotes negative amounts so
/// that spreadsheets keep them as text), `$1,234.50`, `(3.00)`, `12.50 €`, `+1` are read
/// as `-0.68`, `1234.50`, `-3.00`, `12.50`, `1`; the digits are kept as written (`0.50`
/// stays `0.50`). `None` for what is not an amount.
pub fn amount(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s = s[1..s.len() - 1].trim();
    }
    s = s.strip_prefix('\'').unwrap_or(s).trim();
    let mut negative = false;
    if s.len() >= 2 && s.starts_with('(') && s.ends_with(')') {
        negative = true;
        s = s[1..s.len() - 1].trim();
    }
    // a currency sign or code before or after
    for sign in ["$", "€", "£", "¥", "₹", "USD", "EUR", "GBP", "CAD", "AUD", "JPY", "INR"] {
        s = s.strip_prefix(sign).unwrap_or(s).trim_start();
        s = s.strip_suffix(sign).unwrap_or(s).trim_end();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim_start();
    }
    // the sign may also follow a currency sign: `$-1.00`, `-$1.00`
    for sign in ["$", "€", "£", "¥", "₹"] {
        s = s.strip_prefix(sign).unwrap_or(s).trim_start();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest;
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    // thousands separators, only where they group by three
    let int: String = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = !groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return None;
        }
        groups.concat()
    } else {
        int.to_owned()
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(&int) || frac.is_some_and(|f| !digits(f)) || int.len() + frac.map_or(0, str::len) > MAX_DIGITS {
        return None;
    }
    let mut out = String::new();
    // `-0` and `-0.00` are zero: no sign
    let zero = int.bytes().chain(frac.unwrap_or("").bytes()).all(|b| b == b'0');
    if negative && !zero {
        out.push('-');
    }
    out.push_str(&int);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// An amount as `amount` gives it, as an integer of its smallest unit and its scale.
fn scaled(a: &str) -> Option<(i128, u32)> {
    let (neg, a) = match a.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, a),
    };
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    let n: i128 = format!("{int}{frac}").parse().ok()?;
    Some((if neg { -n } else { n }, frac.len() as u32))
}

/// The exact sum of amounts (each as `amount` gives it), at the largest scale among them:
/// `["12.89", "0.5", "-1"]` is `"12.39"`. `None` if there are none, or one is not an amount.
pub fn sum<'a>(amounts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let parts: Vec<(i128, u32)> = amounts.into_iter().map(scaled).collect::<Option<_>>()?;
    let scale = parts.iter().map(|p| p.1).max()?;
    let mut total: i128 = 0;
    for (n, s) in parts {
        total = total.checked_add(n.checked_mul(10i128.checked_pow(scale - s)?)?)?;
    }
    let digits = total.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if total < 0 { "-" } else { "" };
    Some(if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_exporters_write_them() {
        for (raw, want) in [
            ("13.57", Some("13.57")),
            ("0", Some("0")),
            ("0.50", Some("0.50")),
            ("'-0.68'", Some("-0.68")),
            ("'-0.68", Some("-0.68")),
            ("  $1,234.50 ", Some("1234.50")),
            ("(3.00)", Some("-3.00")),
            ("-$4.10", Some("-4.10")),
            ("$-4.10", Some("-4.10")),
            ("12,50 €", None),
            ("12.50 €", Some("12.50")),
            ("USD 7", Some("7")),
            ("+1", Some("1")),
            ("-0.00", Some("0.00")),
            ("1,23.4", None),
            ("1.2.3", None),
            (".5", None),
            ("5.", None),
            ("1e5", None),
            ("Not Available", None),
            ("", None),
            ("12345678901234567890123456", None),
            ("٣", None),
        ] {
            assert_eq!(amount(raw).as_deref(), want, "{raw:?}");
        }
        assert!(absent(" Not Applicable ") && absent("") && absent("N/A") && !absent("0"));
    }

    #[test]
    fn sums_are_exact() {
        assert_eq!(sum(["12.89", "0.5", "-1"]).as_deref(), Some("12.39"));
        assert_eq!(sum(["0.1"; 10]).as_deref(), Some("1.0"), "no floating point");
        assert_eq!(sum(["-0.68", "0.6"]).as_deref(), Some("-0.08"));
        assert_eq!(sum(["3", "4"]).as_deref(), Some("7"));
        assert_eq!(sum(std::iter::empty()).as_deref(), None);
        assert_eq!(sum(["1", "x"]), None);
        let big = "9".repeat(MAX_DIGITS);
        assert_eq!(sum([big.as_str(), "1"]).unwrap(), format!("1{}", "0".repeat(MAX_DIGITS)));
    }
}
