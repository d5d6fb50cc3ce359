//! The records a vertical's reader finds in an archive file, as items: each with the
//! archive files it names attached (and claimed), a file it names that the archive does
//! not hold said in a warning, a record it could not read failed with its reason.

use super::walk::{Walk, fail};
use ferry_codecs::media::file_media_type;
use ferry_core::{Attachment, Vertical};
use ferry_verticals::found::{Found, Typed};
use std::io::Read;

/// A reader of one file format of a vertical (`read_chatgpt`, `read_ofx`).
pub type Reader<T> = fn(Box<dyn Read + Send>, &mut dyn FnMut(Result<Found<T>, String>) -> bool) -> Result<(), String>;

/// Where the archive holds a file a record names: the paths (none when it does not).
pub type Resolve<'a> = &'a dyn Fn(&Walk, &str, &str) -> Vec<String>;

/// Files are named by their path from the folder of the file that names them.
pub fn beside(w: &Walk, file: &str, name: &str) -> Vec<String> {
    let folder = file.rsplit_once('/').map_or("", |(f, _)| f);
    let path = if folder.is_empty() { name.to_owned() } else { format!("{folder}/{name}") };
    if w.fs.entries.contains_key(&path) { vec![path] } else { vec![] }
}

/// Reads each file with `reader`, handing on its records as items of `v`.
pub fn read_all<T: Typed>(w: &mut Walk, files: Vec<String>, v: Vertical, reader: Reader<T>, resolve: Resolve) {
    if !w.wants(v) {
        return skip_all(w, files, v);
    }
    for file in files {
        let mut n = 0usize;
        let r = w.fs.open_file(&file).and_then(|input| {
            reader(input, &mut |found| {
                n += 1;
                emit(w, &file, v, n, found, resolve)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(v, &file, &file, format!("{e} (after {n} records)"))))
        {
            return;
        }
        if !w.open {
            return;
        }
    }
}

/// Lists the files of a vertical not asked for, so the report still shows them.
pub fn skip_all(w: &mut Walk, files: Vec<String>, v: Vertical) {
    for f in files {
        if !w.skipped(&f, format!("holds {v}, which was not asked for")) {
            return;
        }
    }
}

/// One record as an item, its files attached.
pub fn emit<T: Typed>(w: &mut Walk, file: &str, v: Vertical, n: usize, found: Result<Found<T>, String>, resolve: Resolve) -> bool {
    let found = match found {
        Ok(f) => f,
        Err(reason) => return w.send(Err(fail(v, &format!("{file}#{n}"), &format!("{file}, record {n}"), reason))),
    };
    let names = found.files.clone();
    let mut item = found.into_item();
    for name in names {
        let paths = resolve(w, file, &name);
        if paths.is_empty() {
            item.source_warnings.push(format!("file {name}: the record names it, the archive does not hold it"));
        }
        for p in paths {
            w.claim(&p);
            let base = p.rsplit('/').next().unwrap_or(&p).to_owned();
            item.attachments.push(Attachment { content: w.fs.content(&p, file_media_type(&base)), name: base });
        }
    }
    w.send(Ok(item))
}
