//! Exact decimals as the text they are: money and measurements are kept as the digits the
//! source wrote, never through binary floating point. A canonical decimal is
//! `-?[0-9]+(\.[0-9]+)?`, its fraction digits as written (`-12.50` stays `-12.50`).

/// Which character a source puts between the whole part and the fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radix {
    /// `1,234.56` (`,` `'` and spaces group digits).
    Point,
    /// `1.234,56` (`.` `'` and spaces group digits).
    Comma,
    /// Either, and no digit grouping (OFX: "The radix point is indicated with either a
    /// period or a comma").
    Either,
}

/// Whether `s` is a canonical decimal.
#[cfg(test)]
pub fn is_canonical(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "1"));
    !whole.is_empty() && !frac.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// An amount as banks write it, made canonical: a sign before (`-`, `+`, `−`) or after
/// (`12,50-`), or parentheses (`(12.50)`); digit grouping by `radix`; a currency symbol or
/// three-letter code before or after. Anything else is refused with what it is.
pub fn amount(s: &str, radix: Radix) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("`{s}` is not an amount ({why})"));
    let mut t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let mut negative = false;
    if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        t = inner.trim();
    }
    t = strip_currency(t);
    if let Some(rest) = t.strip_prefix(['-', '\u{2212}']) {
        negative = !negative;
        t = rest.trim_start();
    } else if let Some(rest) = t.strip_prefix('+') {
        t = rest.trim_start();
    } else if let Some(rest) = t.strip_suffix('-') {
        negative = !negative;
        t = rest.trim_end();
    }
    t = strip_currency(t);
    if t.is_empty() {
        return refuse("no digits");
    }
    let (groups, point): (&[char], Option<char>) = match radix {
        Radix::Point => (&[',', '\'', ' ', '\u{a0}', '\u{202f}'], Some('.')),
        Radix::Comma => (&['.', '\'', ' ', '\u{a0}', '\u{202f}'], Some(',')),
        Radix::Either => (&[], None),
    };
    let (whole, frac) = match point {
        Some(p) => match t.split_once(p) {
            Some((w, f)) => (w, Some(f)),
            None => (t, None),
        },
        None => match (t.find('.'), t.find(',')) {
            (Some(_), Some(_)) => return refuse("both `.` and `,`"),
            (Some(i), None) | (None, Some(i)) => (&t[..i], Some(&t[i + 1..])),
            (None, None) => (t, None),
        },
    };
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return refuse("the fraction is not digits");
    }
    // the whole part: digits, grouped in threes after the first group
    let mut digits = String::new();
    let mut parts = whole.split(|c| groups.contains(&c));
    let first = parts.next().unwrap_or("");
    let mut grouped = false;
    for (i, part) in std::iter::once(first).chain(parts).enumerate() {
        if !part.bytes().all(|b| b.is_ascii_digit()) || (i > 0 && part.len() != 3) || (i == 0 && part.is_empty() && !whole.is_empty()) {
            return refuse("not digits grouped in threes");
        }
        grouped |= i > 0;
        digits.push_str(part);
    }
    if grouped && first.len() > 3 {
        return refuse("not digits grouped in threes");
    }
    if digits.is_empty() && frac.is_none() {
        return refuse("no digits");
    }
    let whole = digits.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let mut out = String::with_capacity(whole.len() + 8);
    let zero = whole == "0" && frac.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    if negative && !zero {
        out.push('-');
    }
    out.push_str(whole);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Ok(out)
}

fn strip_currency(t: &str) -> &str {
    let t = t.trim_start_matches(['€', '$', '£', '¥', '₹', '₣']).trim_start();
    let t = t.trim_end_matches(['€', '$', '£', '¥', '₹', '₣']).trim_end();
    let code = |w: &str| w.len() == 3 && w.bytes().all(|b| b.is_ascii_uppercase());
    let t = match t.split_once(' ') {
        Some((w, rest)) if code(w) => rest.trim_start(),
        _ => t,
    };
    match t.rsplit_once(' ') {
        Some((rest, w)) if code(w) => rest.trim_end(),
        _ => t,
    }
}

/// The negation of a canonical decimal.
pub fn negate(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => rest.to_owned(),
        None if s.bytes().all(|b| b == b'0' || b == b'.') => s.to_owned(),
        None => format!("-{s}"),
    }
}

/// A measurement as a JSON number (`+5` → `5`, `.5` → `0.5`, `007` → `7`, `1.5e-3` kept),
/// `None` if it is not a number.
pub fn json_number(s: &str) -> Option<String> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (neg, m) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, frac) = match m.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (m, None),
    };
    if (whole.is_empty() && frac.is_none_or(str::is_empty))
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if let Some(e) = exp {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4 {
            return None;
        }
        out.push('e');
        out.push_str(e.strip_prefix('+').unwrap_or(e));
    }
    Some(out)
}

/// A number (as [`json_number`] reads it) times 10^`places` (negative: divided), exactly:
/// the decimal point moves, the digits stay (`0.97` × 10² = `97`, `97.5` ÷ 10² = `0.975`).
pub fn shift(s: &str, places: i32) -> Option<String> {
    let n = json_number(s)?;
    let (mantissa, exp) = match n.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (n.as_str(), 0),
    };
    let (neg, m) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (whole, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{whole}{frac}");
    // where the point is, counted in digits from the left
    let point = whole.len() as i64 + exp as i64 + places as i64;
    if point.unsigned_abs() > 4096 {
        return None;
    }
    let moved = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    let (int, rest) = moved.split_at(moved.find('.').unwrap_or(moved.len()));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if neg && digits.bytes().any(|b| b != b'0') { "-" } else { "" };
    Some(format!("{sign}{int}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_banks_write_them() {
        for (s, radix, want) in [
            ("-12.50", Radix::Point, "-12.50"),
            ("-12,50", Radix::Either, "-12.50"),
            ("1.234,56", Radix::Comma, "1234.56"),
            ("1,234.56", Radix::Point, "1234.56"),
            ("1 234,56 €", Radix::Comma, "1234.56"),
            ("EUR -1.000.000,00", Radix::Comma, "-1000000.00"),
            ("12,50-", Radix::Comma, "-12.50"),
            ("(12.50)", Radix::Point, "-12.50"),
            ("+5", Radix::Either, "5"),
            ("−3,10", Radix::Comma, "-3.10"),
            ("0,00", Radix::Comma, "0.00"),
            ("-0.00", Radix::Point, "0.00"),
            ("007.1", Radix::Point, "7.1"),
            (",5", Radix::Comma, "0.5"),
            ("1'234.50", Radix::Point, "1234.50"),
            ("123456789012345678901234567890.123456789", Radix::Point, "123456789012345678901234567890.123456789"),
        ] {
            assert_eq!(amount(s, radix).as_deref(), Ok(want), "{s}");
            assert!(is_canonical(want), "{want}");
        }
    }

    #[test]
    fn what_is_not_an_amount_is_refused() {
        for (s, radix) in [
            ("", Radix::Point),
            ("abc", Radix::Point),
            ("1.5", Radix::Comma),
            ("1,2345.00", Radix::Point),
            ("1.234,56", Radix::Either),
            ("12.", Radix::Point),
            ("1e5", Radix::Point),
            ("--5", Radix::Point),
            ("12,50 S", Radix::Comma),
        ] {
            assert!(amount(s, radix).is_err(), "{s}");
        }
        assert!(!is_canonical("1,5") && !is_canonical("-") && !is_canonical(".5") && !is_canonical("5."));
    }

    #[test]
    fn numbers_move_their_point_exactly() {
        assert_eq!(shift("0.97", 2).as_deref(), Some("97"));
        assert_eq!(shift("0.975", 2).as_deref(), Some("97.5"));
        assert_eq!(shift("97.5", -2).as_deref(), Some("0.975"));
        assert_eq!(shift("1", 2).as_deref(), Some("100"));
        assert_eq!(shift("-5", -3).as_deref(), Some("-0.005"));
        assert_eq!(shift("1.5e-3", 2).as_deref(), Some("0.15"));
        assert_eq!(shift("0", 2).as_deref(), Some("0"));
        assert_eq!(shift("x", 2), None);
        assert_eq!(shift("1e9999", 2), None);
        assert_eq!(json_number("+.5").as_deref(), Some("0.5"));
        assert_eq!(json_number("007").as_deref(), Some("7"));
        assert_eq!(json_number("1E+5").as_deref(), Some("1e5"));
        assert_eq!(json_number("HKCategoryValueSleepAnalysisInBed"), None);
        assert_eq!(negate("-1.5"), "1.5");
        assert_eq!(negate("2"), "-2");
        assert_eq!(negate("0.00"), "0.00");
    }
}
