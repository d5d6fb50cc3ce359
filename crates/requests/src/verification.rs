//! Identity verification by a one-time code sent to the address on file: six digits from
//! the operating system's random source, kept only as an Argon2 hash, valid for
//! [`LIFETIME`] and for [`MAX_ATTEMPTS`] wrong answers; a new code replaces the old one.
//! Sending goes through [`crate::mailer`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use zeroize::Zeroizing;

/// How long a code is good for.
pub const LIFETIME: Duration = Duration::minutes(30);
/// Wrong answers a code takes before it is spent.
pub const MAX_ATTEMPTS: u32 = 5;
/// Digits of a code.
pub const DIGITS: usize = 6;

/// A code as kept: its hash, where it went, until when, and the wrong answers so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub request: String,
    pub sent_to: String,
    /// Argon2id in PHC form.
    pub hash: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attempts: u32,
}

/// A code just made: the code (to send, then forget) and its record (to keep).
pub struct Issued {
    pub code: Zeroizing<String>,
    pub record: CodeRecord,
}

/// What an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Confirmed,
    /// Wrong; this many tries are left.
    Wrong {
        left: u32,
    },
    Expired,
    /// Too many wrong answers: a new code is needed.
    Spent,
}

/// A new code for `request`, to be sent to `sent_to`.
pub fn issue(request: &str, sent_to: &str, now: DateTime<Utc>) -> Issued {
    use rand::Rng;
    let mut rng = rand::rng();
    let code: Zeroizing<String> = Zeroizing::new((0..DIGITS).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect());
    let salt_bytes: [u8; 16] = rng.random();
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes make a salt");
    let hash = argon2::Argon2::default().hash_password(code.as_bytes(), &salt).expect("Argon2 hashes six digits").to_string();
    Issued {
        code,
        record: CodeRecord {
            request: request.to_owned(),
            sent_to: sent_to.to_owned(),
            hash,
            sent_at: now,
            expires_at: now + LIFETIME,
            attempts: 0,
        },
    }
}

/// Checks `given` against the code kept. `rec.attempts` counts the wrong answers before
/// this one (the store counts this one before asking, so that two answers at once cannot
/// both be the fifth).
pub fn check(rec: &CodeRecord, given: &str, now: DateTime<Utc>) -> Check {
    if rec.attempts >= MAX_ATTEMPTS {
        return Check::Spent;
    }
    if now > rec.expires_at {
        return Check::Expired;
    }
    let given: String = given.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let ok = given.len() == DIGITS
        && given.bytes().all(|b| b.is_ascii_digit())
        && PasswordHash::new(&rec.hash).is_ok_and(|h| argon2::Argon2::default().verify_password(given.as_bytes(), &h).is_ok());
    if ok { Check::Confirmed } else { Check::Wrong { left: MAX_ATTEMPTS - rec.attempts - 1 } }
}

/// The message that carries a code.
pub fn message(request: &str, code: &str, company: &str, expires_at: DateTime<Utc>) -> (String, String) {
    let subject = format!("Your code for request {request}");
    let body = format!(
        "Hello,\r\n\r\nyou asked {company} for your personal data (request {request}). To confirm that this address is\r\n\
         yours, give this code when you are asked for it:\r\n\r\n    {code}\r\n\r\n\
         It is good until {} UTC, for {MAX_ATTEMPTS} tries. If you did not make this request, ignore this message:\r\n\
         nothing is sent to anyone without the code.\r\n",
        expires_at.format("%Y-%m-%d %H:%M")
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_checked_by_its_hash_expires_and_is_spent_after_five_wrong_answers() {
        let now = Utc::now();
        let issued = issue("R-1", "a@example.org", now);
        assert_eq!(issued.code.len(), DIGITS);
        assert!(!issued.record.hash.contains(issued.code.as_str()), "only the hash is kept");
        let mut rec = issued.record.clone();
        let wrong = if issued.code.as_str() == "000000" { "111111" } else { "000000" };
        assert_eq!(check(&rec, wrong, now), Check::Wrong { left: 4 });
        assert_eq!(check(&rec, &format!("{}-{}", &issued.code[..3], &issued.code[3..]), now), Check::Confirmed, "a dash or space is fine");
        assert_eq!(check(&rec, "12345", now), Check::Wrong { left: 4 }, "too short");
        assert_eq!(check(&rec, "１２３４５６", now), Check::Wrong { left: 4 }, "other digits than ASCII's");
        assert_eq!(check(&rec, &issued.code, now + LIFETIME + Duration::seconds(1)), Check::Expired);
        rec.attempts = MAX_ATTEMPTS;
        assert_eq!(check(&rec, &issued.code, now), Check::Spent, "spent: even the right code is refused");
        let other = issue("R-1", "a@example.org", now);
        assert_ne!(other.record.hash, issued.record.hash, "salted");
    }
}
