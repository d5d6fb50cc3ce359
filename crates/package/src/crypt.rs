//! age encryption of a whole ZIP package, to a passphrase or to public keys.

use crate::PackageError;
use age::secrecy::SecretString;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::str::FromStr;

/// Who can open an encrypted package.
#[derive(Clone)]
pub enum Encryption {
    Passphrase(SecretString),
    /// age public keys (`age1...`).
    Recipients(Vec<age::x25519::Recipient>),
}

/// What opens an encrypted package.
#[derive(Clone)]
pub enum Decryption {
    Passphrase(SecretString),
    /// age identities (`AGE-SECRET-KEY-1...`).
    Identities(Vec<age::x25519::Identity>),
}

pub fn parse_recipient(s: &str) -> Result<age::x25519::Recipient, String> {
    age::x25519::Recipient::from_str(s.trim()).map_err(|e| format!("`{}` is not an age public key: {e}", s.trim()))
}

/// Reads identities from an age identity file (one `AGE-SECRET-KEY-1...` per line).
pub fn read_identities(path: &Path) -> Result<Vec<age::x25519::Identity>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read identity file {}: {e}", path.display()))?;
    let ids: Vec<_> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| age::x25519::Identity::from_str(l).map_err(|e| format!("{}: not an age identity: {e}", path.display())))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(format!("{} holds no age identity", path.display()));
    }
    Ok(ids)
}

/// Wraps `out` in the age encryptor: what is written to the result reaches `out` encrypted.
pub fn encrypting<W: Write>(enc: &Encryption, out: W) -> Result<age::stream::StreamWriter<W>, PackageError> {
    let encryptor = match enc {
        Encryption::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
        Encryption::Recipients(r) => age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| PackageError::Decrypt(format!("cannot encrypt: {e}")))?,
    };
    encryptor.wrap_output(out).map_err(|e| PackageError::io("encrypting", e))
}

/// Decrypts to a temporary file in `tmp_dir` (a ZIP needs random access).
pub fn decrypt_to_temp(src: &Path, dec: &Decryption, tmp_dir: &Path) -> Result<tempfile::NamedTempFile, PackageError> {
    let input = BufReader::new(File::open(src).map_err(|e| PackageError::io(src.display().to_string(), e))?);
    let decryptor = age::Decryptor::new(input).map_err(|e| PackageError::Decrypt(format!("{}: {e}", src.display())))?;
    let mut reader = match dec {
        Decryption::Passphrase(p) => {
            let id = age::scrypt::Identity::new(p.clone());
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
        }
        Decryption::Identities(ids) => decryptor.decrypt(ids.iter().map(|i| i as &dyn age::Identity)),
    }
    .map_err(|e| PackageError::Decrypt(format!("{}: {e}", src.display())))?;
    std::fs::create_dir_all(tmp_dir).map_err(|e| PackageError::io(tmp_dir.display().to_string(), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix("ferry-decrypted-")
        .suffix(".zip")
        .tempfile_in(tmp_dir)
        .map_err(|e| PackageError::io("temporary file", e))?;
    std::io::copy(&mut reader, tmp.as_file_mut()).map_err(|e| PackageError::Decrypt(format!("{}: {e}", src.display())))?;
    Ok(tmp)
}
