//! README.txt and README.html: what is in the package and what every field means.

use crate::manifest::Manifest;
use crate::record::schemas;

fn field_docs() -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for (file, schema) in schemas() {
        let title = file.trim_end_matches(".schema.json").to_owned();
        let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else { continue };
        let fields = props
            .iter()
            .map(|(name, p)| {
                let desc = p.get("description").and_then(|d| d.as_str()).unwrap_or("").replace('\n', " ");
                (name.clone(), desc)
            })
            .collect();
        out.push((title, fields));
    }
    out
}

const ABOUT: &[(&str, &str)] = &[
    (
        "contacts",
        "contacts/<address book>.vcf (vCard 4.0, imports into any address book), contacts/contacts.csv \
            (Google Contacts layout, also read by Outlook), contacts/contacts.jsonl (canonical records, \
            each with the original vCard byte for byte)",
    ),
    (
        "calendar",
        "calendar/<calendar>.ics (iCalendar, imports into any calendar), calendar/events.jsonl (canonical \
            records with the original iCalendar object)",
    ),
    ("tasks", "tasks/<list>.ics (iCalendar VTODO), tasks/tasks.jsonl"),
    (
        "mail",
        "mail/<folder>.mbox (mboxrd, opens in Thunderbird, mutt, Apple Mail), mail/messages.jsonl (folder, \
            flags, dates, and which message of which mbox)",
    ),
    ("media", "media/<album>/<file> (photos and videos as they were), media/media.jsonl (title, description, capture time, position)"),
    ("files", "files/<folder>/<file> (files as they were), files/files.jsonl"),
    (
        "playlists",
        "playlists/<folder>/<playlist>.xspf (XSPF) and .m3u8 (extended M3U, opens in most players), \
            playlists/playlists.jsonl",
    ),
    (
        "orders",
        "orders/<seller>/<order>.jsonld (schema.org Order in JSON-LD), orders/order_lines.csv (one row per \
            order line), orders/orders.jsonl",
    ),
    (
        "web",
        "web/<folder>.html (Netscape bookmark file: a browser imports it, its folders with it), web/history.csv \
            (the history, a visit a row), web/web.jsonl",
    ),
];

pub fn render(m: &Manifest) -> (String, String) {
    let mut txt = format!(
        "ferry package\n=============\n\nCreated {} by {} from {}.\n\nThis archive holds personal data \
            in open, standard formats. Every file is listed in\nmanifest.json with its size and SHA-256, \
            so that anyone can check nothing was changed\n(`ferry verify` does it). The JSON Schemas \
            of all records are in schemas/.\n\nWhat is inside\n--------------\n",
        m.created.format("%Y-%m-%d %H:%M UTC"),
        m.generator,
        m.source
    );
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ferry package</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em \
            auto;line-height:1.4}}td,th{{text-align:left;padding:.2em .6em;vertical-align:top}}code{{background:#f3f3f3}}</style></head><body><h1>ferry \
            package</h1><p>Created {} by {} from <code>{}</code>.</p><p>This archive holds personal \
            data in open, standard formats. Every file is listed in <code>manifest.json</code> with \
            its size and SHA-256, so that anyone can check nothing was changed (<code>ferry verify</code> \
            does it). The JSON Schemas of all records are in <code>schemas/</code>.</p><h2>What is inside</h2><table><tr><th>Data</th><th>Items</th><th>Containers</th><th>Files</th></tr>",
        m.created.format("%Y-%m-%d %H:%M UTC"),
        esc(&m.generator),
        esc(&m.source)
    );
    for (name, s) in &m.verticals {
        let about = ABOUT.iter().find(|(n, _)| n == name).map(|(_, a)| *a).unwrap_or("");
        txt.push_str(&format!(
            "{name}: {} items in {} container(s): {}\n  {about}\n\n",
            s.items,
            s.containers.len(),
            s.containers.join(", ")
        ));
        html.push_str(&format!(
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.items,
            esc(&s.containers.join(", ")),
            esc(about)
        ));
    }
    html.push_str("</table><h2>What every field means</h2>");
    txt.push_str("What every field means\n----------------------\n");
    for (title, fields) in field_docs() {
        txt.push_str(&format!("\n{title}\n"));
        html.push_str(&format!("<h3>{}</h3><table>", esc(&title)));
        for (f, d) in fields {
            txt.push_str(&format!("  {f}: {d}\n"));
            html.push_str(&format!("<tr><td><code>{}</code></td><td>{}</td></tr>", esc(&f), esc(&d)));
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>\n");
    (txt, html)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
