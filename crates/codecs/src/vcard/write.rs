//! Writes a read card as vCard 4.0 (RFC 6350) or 3.0 (RFC 2426), folded at 75 octets.
//! What the target version cannot hold exactly is named in the warnings.

use super::WriteVersion;
use super::card::{Card, Prop, Value};
use super::decode::{self, base64_encode, split_escaped, unescape};
use super::scan::Param;

/// Properties whose value is a date or a date and time: 4.0 wants ISO 8601's basic form.
const DATES: [&str; 4] = ["BDAY", "ANNIVERSARY", "DEATHDATE", "REV"];

pub fn write(card: &Card, version: WriteVersion, warnings: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(256);
    line(&mut out, "BEGIN:VCARD");
    line(&mut out, if version == WriteVersion::V4 { "VERSION:4.0" } else { "VERSION:3.0" });
    let mut props: Vec<Prop> = card.props.clone();
    if version == WriteVersion::V4 {
        labels_into_adr(&mut props);
    }
    if !props.iter().any(|p| p.name == "FN") {
        // FN is required in 3.0 and 4.0: made from N, else ORG, else the first EMAIL
        let from = |n: &str| props.iter().find(|p| p.name == n).and_then(Prop::text);
        let made = match from("N").map(|n| split_escaped(n, ';').into_iter().map(unescape).collect::<Vec<_>>()) {
            Some(n) => {
                let get = |i: usize| n.get(i).map(String::as_str).unwrap_or("");
                [get(3), get(1), get(2), get(0), get(4)].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ")
            }
            None => String::new(),
        };
        let made = if made.is_empty() {
            from("ORG")
                .map(|o| split_escaped(o, ';').into_iter().map(unescape).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "))
                .filter(|s| !s.is_empty())
                .or_else(|| from("EMAIL").map(unescape))
                .unwrap_or_default()
        } else {
            made
        };
        let mut fn_text = String::new();
        decode::escape_into(&mut fn_text, &made, true, true);
        props.insert(0, text_prop("FN", fn_text, 0));
    }
    for p in &props {
        write_prop(&mut out, p, version, warnings);
    }
    line(&mut out, "END:VCARD");
    out
}

fn text_prop(name: &str, text: String, line: u64) -> Prop {
    Prop {
        group: None,
        name: name.into(),
        spelled: name.into(),
        types: Vec::new(),
        pref: None,
        params: Vec::new(),
        value: Value::Text(text),
        line,
    }
}

/// vCard 4.0 has no LABEL property: a label goes on the ADR of the same types as its
/// LABEL parameter, or on an ADR of its own with empty components (RFC 6350 6.3.1).
fn labels_into_adr(props: &mut Vec<Prop>) {
    let same = |a: &[String], b: &[String]| a.len() == b.len() && a.iter().all(|t| b.iter().any(|u| u.eq_ignore_ascii_case(t)));
    let mut i = 0;
    while i < props.len() {
        if props[i].name != "LABEL" || props[i].text().is_none() {
            i += 1;
            continue;
        }
        let label = props.remove(i);
        let text = unescape(label.text().expect("checked"));
        let param = Param { name: "LABEL".into(), values: vec![text] };
        let target =
            props.iter_mut().find(|p| p.name == "ADR" && same(&p.types, &label.types) && !p.params.iter().any(|q| q.name == "LABEL"));
        match target {
            Some(adr) => adr.params.push(param),
            None => {
                let mut adr = text_prop("ADR", ";;;;;;".into(), label.line);
                adr.types = label.types;
                adr.pref = label.pref;
                adr.group = label.group;
                adr.params.push(param);
                props.insert(i, adr);
                i += 1;
            }
        }
    }
}

fn write_prop(out: &mut String, p: &Prop, version: WriteVersion, warnings: &mut Vec<String>) {
    let v4 = version == WriteVersion::V4;
    let mut name = p.spelled.clone();
    let mut types = p.types.clone();
    let mut params = p.params.clone();
    let value = match &p.value {
        Value::Card(nested) => {
            let text = write(nested, version, warnings);
            let fn_ = nested.props.iter().find(|q| q.name == "FN").and_then(Prop::text).map(unescape).unwrap_or_default();
            if v4 {
                warnings
                    .push(format!("AGENT: vCard 4.0 has no AGENT; the nested card of \"{fn_}\" is kept as the text of RELATED;TYPE=agent"));
                name = "RELATED".into();
                types.push("agent".into());
                params.retain(|q| q.name != "VALUE");
                params.push(Param { name: "VALUE".into(), values: vec!["text".into()] });
            }
            let mut escaped = String::new();
            decode::escape_into(&mut escaped, &text, true, true);
            escaped
        }
        Value::Binary { data, media_type } => {
            params.retain(|q| q.name != "VALUE" && q.name != "MEDIATYPE");
            if v4 {
                format!("data:{};base64,{}", media_type.as_deref().unwrap_or("application/octet-stream"), base64_encode(data))
            } else {
                params.push(Param { name: "ENCODING".into(), values: vec!["b".into()] });
                if let Some(mt) = media_type {
                    let sub = mt.rsplit('/').next().unwrap_or(mt).trim_start_matches("x-");
                    types.insert(0, sub.to_ascii_uppercase());
                }
                base64_encode(data)
            }
        }
        Value::Text(t) => text_for(&mut name, t, &mut types, &mut params, version, warnings),
    };
    let mut head = String::new();
    if let Some(g) = &p.group {
        head.push_str(g);
        head.push('.');
    }
    head.push_str(&name);
    if let Some(n) = &p.pref
        && !v4
    {
        let _ = n;
        types.push("pref".into());
    }
    if !types.is_empty() {
        let list: Vec<String> = types.iter().map(|t| if v4 { t.to_ascii_lowercase() } else { t.clone() }).collect();
        head.push_str(";TYPE=");
        head.push_str(&list.iter().map(|t| param_value(t, v4)).collect::<Vec<_>>().join(","));
    }
    if let Some(n) = &p.pref
        && v4
    {
        let n: u32 = n.trim().parse().unwrap_or(1).clamp(1, 100);
        head.push_str(&format!(";PREF={n}"));
    }
    for q in &params {
        head.push(';');
        head.push_str(&q.name);
        head.push('=');
        head.push_str(&q.values.iter().map(|v| param_value(v, v4)).collect::<Vec<_>>().join(","));
    }
    head.push(':');
    head.push_str(&value);
    line(out, &head);
}

/// A text value for the target: 3.0 and 4.0 share the escaping; some values change form.
fn text_for(
    name: &mut String,
    t: &str,
    types: &mut Vec<String>,
    params: &mut Vec<Param>,
    version: WriteVersion,
    warnings: &mut Vec<String>,
) -> String {
    let v4 = version == WriteVersion::V4;
    match name.to_ascii_uppercase().as_str() {
        "N" if v4 => pad(t, 5),
        "ADR" if v4 => pad(t, 7),
        n if v4
            && DATES.contains(&n)
            && !params.iter().any(|p| p.name == "VALUE" && p.values.iter().any(|v| v.eq_ignore_ascii_case("text"))) =>
        {
            basic_date(t)
        }
        "GEO" if v4 && !t.to_ascii_lowercase().starts_with("geo:") => {
            let parts: Vec<&str> = t.split([';', ',']).map(|s| s.trim_start_matches('\\').trim()).collect();
            match parts.as_slice() {
                [lat, lon] if lat.parse::<f64>().is_ok() && lon.parse::<f64>().is_ok() => format!("geo:{lat},{lon}"),
                _ => {
                    warnings.push(format!("GEO: `{t}` is not a latitude and longitude; kept as text"));
                    params.push(Param { name: "VALUE".into(), values: vec!["text".into()] });
                    t.to_owned()
                }
            }
        }
        "AGENT" if v4 => {
            // 3.0 AGENT: an escaped card as text, or a URI
            *name = "RELATED".into();
            types.push("agent".into());
            if params.iter().any(|p| p.name == "VALUE" && p.values.iter().any(|v| v.eq_ignore_ascii_case("uri"))) {
                params.retain(|p| p.name != "VALUE");
            } else {
                warnings.push("AGENT: vCard 4.0 has no AGENT; its text is kept as the text of RELATED;TYPE=agent".into());
                params.retain(|p| p.name != "VALUE");
                params.push(Param { name: "VALUE".into(), values: vec!["text".into()] });
            }
            t.to_owned()
        }
        "PHOTO" | "LOGO" | "SOUND" | "KEY" if !v4 => match parse_data_uri(t) {
            // 4.0 data: URI -> 3.0 inline base64
            Some((mt, data)) => {
                params.retain(|p| p.name != "VALUE" && p.name != "MEDIATYPE");
                params.push(Param { name: "ENCODING".into(), values: vec!["b".into()] });
                if let Some(sub) = mt.rsplit('/').next().filter(|s| !s.is_empty()) {
                    types.insert(0, sub.trim_start_matches("x-").to_ascii_uppercase());
                }
                base64_encode(&data)
            }
            None => t.to_owned(),
        },
        _ => t.to_owned(),
    }
}

/// Structured value with at least `n` components.
fn pad(t: &str, n: usize) -> String {
    let have = split_escaped(t, ';').len();
    let mut s = t.to_owned();
    for _ in have..n {
        s.push(';');
    }
    s
}

/// `1980-04-05` -> `19800405`, `1995-10-31T22:27:10Z` -> `19951031T222710Z`; `--04-05`
/// (no year) and values already basic are kept.
fn basic_date(t: &str) -> String {
    let (date, time) = match t.split_once(['T', 't']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let date = if let Some(rest) = date.strip_prefix("--") { format!("--{}", rest.replace('-', "")) } else { date.replace('-', "") };
    match time {
        Some(tm) => {
            // the zone offset keeps its sign; colons go
            let tm = tm.replace(':', "");
            format!("{date}T{tm}")
        }
        None => date,
    }
}

/// `data:<type>;base64,<data>` -> (type, bytes).
fn parse_data_uri(t: &str) -> Option<(String, Vec<u8>)> {
    let rest = t.strip_prefix("data:").or_else(|| t.strip_prefix("DATA:"))?;
    // a writer that escaped the comma (`\,`) still meant a data URI
    let (head, data) = rest.split_once("\\,").or_else(|| rest.split_once(','))?;
    let mt = head.strip_suffix(";base64")?;
    Some((mt.to_owned(), decode::base64(data.as_bytes())?))
}

/// A parameter value, quoted when it holds `:` `;` `,` (4.0: RFC 6868's `^` escapes for
/// line breaks and quotes).
fn param_value(v: &str, v4: bool) -> String {
    let v = if v4 {
        v.replace('^', "^^").replace("\r\n", "^n").replace(['\n', '\r'], "^n").replace('"', "^'")
    } else {
        v.replace("\r\n", " ").replace(['\n', '\r'], " ").replace('"', "'")
    };
    if v.contains([':', ';', ',']) { format!("\"{v}\"") } else { v }
}

use crate::lines::push_folded as line;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_folding() {
        assert_eq!(basic_date("1980-04-05"), "19800405");
        assert_eq!(basic_date("--04-05"), "--0405");
        assert_eq!(basic_date("1995-10-31T22:27:10Z"), "19951031T222710Z");
        let mut out = String::new();
        line(&mut out, &format!("NOTE:{}", "é".repeat(60)));
        assert!(out.split("\r\n").all(|l| l.len() <= 75), "{out}");
        assert_eq!(out.replace("\r\n ", "").trim_end(), format!("NOTE:{}", "é".repeat(60)));
    }

    #[test]
    fn data_uri_with_an_escaped_comma() {
        assert_eq!(parse_data_uri("data:image/png;base64\\,AAEC"), Some(("image/png".into(), vec![0, 1, 2])));
    }
}
