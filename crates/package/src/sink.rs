//! Where the final package's files go, hashing each as it is written: a folder, a ZIP
//! file, or a ZIP streamed straight into the age encryptor (no plaintext ZIP on disk).
//! What it keeps of each file (the manifest's list, the ZIP's directory) waits in scratch
//! files, not in memory.

use crate::PackageError;
use crate::crypt::Encryption;
use crate::manifest::{FileEntry, FileList};
use crate::staging::create_new_private;
use crate::zip_out::ZipOut;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

type AgeOut = age::stream::StreamWriter<BufWriter<File>>;

enum Out {
    Dir(PathBuf),
    Zip(Box<ZipOut<BufWriter<File>>>),
    AgeZip(Box<ZipOut<AgeOut>>),
}

/// Runs `$body` with `$z` bound to whichever ZIP writer `$out` holds.
macro_rules! with_zip {
    ($out:expr, $z:ident => $body:expr) => {
        match $out {
            Out::Zip($z) => {
                let $z = &mut **$z;
                $body
            }
            Out::AgeZip($z) => {
                let $z = &mut **$z;
                $body
            }
            Out::Dir(_) => unreachable!("not a ZIP"),
        }
    };
}

struct Open {
    path: String,
    media_type: String,
    hasher: Sha256,
    size: u64,
    file: Option<BufWriter<File>>,
}

pub(crate) struct Sink {
    out: Out,
    open: Option<Open>,
    /// Every file written, for the manifest.
    pub files: FileList,
}

fn io_err(ctx: impl Into<String>) -> impl FnOnce(io::Error) -> PackageError {
    let ctx = ctx.into();
    move |e| PackageError::io(ctx, e)
}

/// `scratch/name.suffix`: one of a sink's scratch files.
fn scratch_file(scratch: &Path, name: &str, suffix: &str) -> PathBuf {
    scratch.join(format!("{name}.{suffix}"))
}

impl Sink {
    /// A folder package built in `root` (which must not exist yet); its file list is kept
    /// in the folder `scratch` until the manifest is written.
    pub fn dir(root: &Path, scratch: &Path) -> Result<Sink, PackageError> {
        crate::staging::private_dir(root)?;
        let files = FileList::new(&scratch_file(scratch, "package", "files"))?;
        Ok(Sink { out: Out::Dir(root.to_owned()), open: None, files })
    }

    /// A ZIP written to `path`, created exclusively; with `encryption`, the ZIP is streamed
    /// into the age encryptor and only ciphertext reaches the disk. Its central directory
    /// and file list are kept in the folder `scratch` until they are written.
    pub fn zip(path: &Path, encryption: Option<&Encryption>, scratch: &Path, time: zip::DateTime) -> Result<Sink, PackageError> {
        let f = create_new_private(path).map_err(io_err(format!("cannot create {}", path.display())))?;
        let buffered = BufWriter::with_capacity(1 << 20, f);
        let records = scratch_file(scratch, "package", "records");
        let out = match encryption {
            None => Out::Zip(Box::new(ZipOut::new(buffered, 0, &records, time).map_err(io_err("cannot start the package"))?)),
            Some(enc) => Out::AgeZip(Box::new(
                ZipOut::new(crate::crypt::encrypting(enc, buffered)?, 0, &records, time).map_err(io_err("cannot start the package"))?,
            )),
        };
        let files = FileList::new(&scratch_file(scratch, "package", "files"))?;
        Ok(Sink { out, open: None, files })
    }

    pub fn start_stream(&mut self, path: &str, media_type: &str, compress: bool) -> Result<(), PackageError> {
        assert!(self.open.is_none(), "one package file at a time");
        let file = match &mut self.out {
            Out::Dir(root) => {
                let p = root.join(path);
                crate::staging::private_dir(p.parent().unwrap())?;
                Some(BufWriter::with_capacity(1 << 20, create_new_private(&p).map_err(io_err(path))?))
            }
            out => {
                with_zip!(out, z => z.start(path, compress).map_err(io_err(path))?);
                None
            }
        };
        self.open = Some(Open { path: path.into(), media_type: media_type.into(), hasher: Sha256::new(), size: 0, file });
        Ok(())
    }

    fn write_raw(&mut self, buf: &[u8]) -> io::Result<()> {
        let open = self.open.as_mut().ok_or_else(|| io::Error::other("no package file is open"))?;
        open.hasher.update(buf);
        open.size += buf.len() as u64;
        match (&mut self.out, &mut open.file) {
            (Out::Dir(_), Some(f)) => f.write_all(buf),
            (Out::Dir(_), None) => unreachable!("a folder file is open"),
            (out, _) => with_zip!(out, z => z.write_all(buf)),
        }
    }

    pub fn write_stream(&mut self, buf: &[u8]) -> Result<(), PackageError> {
        let path = self.open.as_ref().map(|o| o.path.clone()).unwrap_or_default();
        self.write_raw(buf).map_err(io_err(path))
    }

    pub fn end_stream(&mut self) -> Result<(), PackageError> {
        let open = self.open.take().expect("a file is open");
        match (&mut self.out, open.file) {
            (Out::Dir(_), Some(mut f)) => f.flush().map_err(io_err(&open.path))?,
            (Out::Dir(_), None) => unreachable!("a folder file is open"),
            (out, _) => with_zip!(out, z => z.end().map_err(io_err(&open.path))?),
        }
        self.files.push(&FileEntry {
            path: open.path,
            size: open.size,
            media_type: open.media_type,
            sha256: hex::encode(open.hasher.finalize()),
        })
    }

    pub fn add_bytes(&mut self, path: &str, media_type: &str, bytes: &[u8]) -> Result<(), PackageError> {
        self.start_stream(path, media_type, true)?;
        self.write_stream(bytes)?;
        self.end_stream()
    }

    /// Adds a staged content file whose hash is known. A folder package gets a hard link
    /// to the staged copy (which is ferry's own, never a source file).
    pub fn add_staged(
        &mut self,
        path: &str,
        media_type: &str,
        staged: &Path,
        size: u64,
        sha: &str,
        compress: bool,
    ) -> Result<(), PackageError> {
        if let Out::Dir(root) = &self.out {
            let p = root.join(path);
            crate::staging::private_dir(p.parent().unwrap())?;
            if std::fs::hard_link(staged, &p).is_err() {
                let mut from = File::open(staged).map_err(io_err(path))?;
                let mut to = create_new_private(&p).map_err(io_err(path))?;
                io::copy(&mut from, &mut to).map_err(io_err(path))?;
            }
            return self.files.push(&FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() });
        }
        // the hash is known from staging: copy without hashing again, but check the size
        let mut f = File::open(staged).map_err(io_err(path))?;
        let copied = with_zip!(&mut self.out, z => {
            z.start(path, compress).map_err(io_err(path))?;
            let copied = io::copy(&mut f, z).map_err(io_err(path))?;
            z.end().map_err(io_err(path))?;
            copied
        });
        if copied != size {
            return Err(PackageError::invalid(path, format!("staged content is {copied} bytes, expected {size}")));
        }
        self.files.push(&FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() })
    }

    /// A sink for one part of the package, written on another thread while other parts
    /// are: a folder package's part writes into the same folder; a ZIP package's part is a
    /// ZIP's entries of its own, `dir/name` (created exclusively), that [`Sink::absorb`]
    /// then copies into this one without compressing it again.
    pub fn part(&self, dir: &Path, name: &str) -> Result<Sink, PackageError> {
        let out = match &self.out {
            Out::Dir(root) => Out::Dir(root.clone()),
            Out::Zip(z) => Out::Zip(Box::new(Self::part_zip(dir, name, z.time())?)),
            Out::AgeZip(z) => Out::Zip(Box::new(Self::part_zip(dir, name, z.time())?)),
        };
        let files = FileList::new(&scratch_file(dir, name, "files"))?;
        Ok(Sink { out, open: None, files })
    }

    fn part_zip(dir: &Path, name: &str, time: zip::DateTime) -> Result<ZipOut<BufWriter<File>>, PackageError> {
        let path = dir.join(name);
        // read back by `absorb`
        let f = create_new_private(&path).map_err(io_err(format!("cannot create {}", path.display())))?;
        // smaller buffers than the package's own: several parts are written at once
        ZipOut::new(BufWriter::with_capacity(256 << 10, f), 0, &scratch_file(dir, name, "records"), time)
            .map_err(io_err(format!("cannot start {}", path.display())))
    }

    /// Adds a finished part (see [`Sink::part`]) after what this sink holds.
    pub fn absorb(&mut self, part: Sink) -> Result<(), PackageError> {
        assert!(self.open.is_none() && part.open.is_none(), "no package file is open");
        self.files.append(part.files)?;
        let part = match part.out {
            Out::Dir(_) => return Ok(()),
            Out::Zip(z) => (*z).into_part().map_err(io_err("finishing a part"))?,
            Out::AgeZip(_) => unreachable!("parts are plain ZIPs"),
        };
        with_zip!(&mut self.out, z => z.append(part).map_err(io_err("adding a part"))?);
        Ok(())
    }

    /// Completes the ZIP (and the encryption) and flushes it to the disk.
    pub fn finish(self) -> Result<(), PackageError> {
        let file = match self.out {
            Out::Dir(_) => return Ok(()),
            Out::Zip(z) => (*z).finish().map_err(io_err("finishing ZIP"))?,
            Out::AgeZip(z) => {
                let age = (*z).finish().map_err(io_err("finishing ZIP"))?;
                age.finish().map_err(io_err("encrypting"))?
            }
        };
        let mut file = file;
        file.flush().map_err(io_err("finishing ZIP"))?;
        file.get_ref().sync_all().map_err(io_err("finishing ZIP"))
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_raw(buf).map(|_| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
