//! A Slack workspace export: `users.json`, the lists of conversations (`channels.json`,
//! `groups.json`, `dms.json`, `mpims.json`), and a folder per conversation with one JSON
//! file per day. A channel is one conversation, its threads inside it; its day files are
//! handed to the reader together, in date order (the walk lists them so).

use super::found::emit;
use super::walk::{Walk, fail};
use ferry_verticals::conversations::{CONVERSATIONS, SlackKind, SlackWorkspace};

fn name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// A day file: `FOLDER/YYYY-MM-DD.json` (folder, date).
fn day(p: &str) -> Option<(&str, &str)> {
    let (folder, file) = p.split_once('/')?;
    let date = file.strip_suffix(".json")?;
    let ok = date.len() == 10 && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    (ok && !folder.is_empty()).then_some((folder, date))
}

pub fn read(w: &mut Walk, files: Vec<String>) {
    if !w.wants(CONVERSATIONS) {
        for f in files {
            if !w.skipped(&f, "holds conversations, which were not asked for".into()) {
                return;
            }
        }
        return;
    }
    let mut ws = SlackWorkspace::new();
    for f in &files {
        let n = name(f);
        if f.contains('/') {
            continue;
        }
        let r = if n == "users.json" || n == "org_users.json" {
            w.fs.open_file(f).and_then(|i| ws.add_users(i))
        } else if let Some(kind) = SlackKind::of_list(n) {
            w.fs.open_file(f).and_then(|i| ws.add_channels(kind, i))
        } else {
            w.unclaim(f);
            continue;
        };
        if let Err(e) = r
            && !w.send(Err(fail(CONVERSATIONS, f, f, e)))
        {
            return;
        }
    }
    let mut n = 0usize;
    for f in &files {
        let Some((folder, date)) = day(f) else {
            if f.contains('/') {
                w.unclaim(f);
            }
            continue;
        };
        let r = w.fs.open_file(f).and_then(|input| {
            ws.add_day(folder, date, input, &mut |found| {
                n += 1;
                emit(w, f, CONVERSATIONS, n, found, &in_folder)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(CONVERSATIONS, f, f, e)))
        {
            return;
        }
        if !w.open {
            return;
        }
    }
    let last = files.last().cloned().unwrap_or_default();
    ws.finish(&mut |found| {
        n += 1;
        emit(w, &last, CONVERSATIONS, n, found, &in_folder)
    });
}

/// A file a message names, where an export with files holds it: in its conversation's
/// folder (standard exports hold none: the record keeps its link).
fn in_folder(w: &Walk, day_file: &str, file: &str) -> Vec<String> {
    let folder = day_file.split('/').next().unwrap_or("");
    w.fs.entries.keys().filter(|p| p.starts_with(&format!("{folder}/")) && p.ends_with(&format!("/{file}")) && day(p).is_none()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_files_are_told_from_others() {
        assert_eq!(super::day("general/2021-03-04.json"), Some(("general", "2021-03-04")));
        assert_eq!(super::day("general/canvas.json"), None);
        assert_eq!(super::day("channels.json"), None);
        assert_eq!(super::day("general/2021-3-04.json"), None);
    }
}
