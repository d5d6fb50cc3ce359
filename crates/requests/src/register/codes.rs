//! Identity verification by a one-time code, as a step of the register: send a code to
//! the address on file, then check the person's answer. Each is audited (to where the
//! code went, never the code; each wrong, late or spent answer).

use super::{Register, RegisterError, Result, verifying};
use crate::lifecycle::{Request, State};
use crate::map::IdentityKind;
use crate::verification::{self, Check};
use chrono::{DateTime, Utc};

/// How codes are sent: the SMTP server (`smtp://` on loopback only, else `smtps://` or
/// `smtp://…?tls=required`; see [`crate::mailer`]), the sender, and the company's name
/// as the message gives it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub smtp: String,
    pub from: String,
    pub company: String,
}

impl Register {
    /// Sends a new code for request `id` to `to`, or to the request's email address, and
    /// starts verifying. Returns the request and when the code expires.
    pub async fn send_code(&self, id: &str, to: Option<&str>, mail: &Mail, actor: &str) -> Result<(Request, DateTime<Utc>)> {
        let mut request = self.find(id).await?;
        let address = match (to, request.identity.kind) {
            (Some(a), _) => a.trim().to_owned(),
            (None, IdentityKind::Email) => request.identity.value.clone(),
            (None, kind) => {
                return Err(RegisterError::Refused(format!(
                    "the request names the person by {}: give the email address on file to send the code to",
                    kind.as_str()
                )));
            }
        };
        if !address.contains('@') || address.len() > super::MAX_IDENTITY || address.chars().any(char::is_control) {
            return Err(RegisterError::Refused(format!("`{address}` is not an email address")));
        }
        if !verifying(&request) {
            return Err(RegisterError::Refused(format!(
                "request {} is {}: its identity is no longer being verified",
                request.id, request.state
            )));
        }
        let now = Utc::now();
        let issued = verification::issue(&request.id, &address, now);
        let (subject, body) = verification::message(&request.id, &issued.code, &mail.company, issued.record.expires_at);
        crate::mailer::send(&mail.smtp, &mail.from, &address, &subject, &body)
            .await
            .map_err(|e| RegisterError::Unavailable(format!("the code was not sent: {e}")))?;
        self.store.put_code(&issued.record).await?;
        if request.state == State::Received {
            let t = request.verify_identity()?;
            self.store.record(&request, &t, actor, now).await?;
        }
        self.store.note(&request, "code_sent", Some(&format!("to {address}")), actor, now).await?;
        Ok((request, issued.record.expires_at))
    }

    /// Checks the code the person gave back: the identity is confirmed, or the answer is
    /// refused (wrong, expired, or too many wrong answers), each audited.
    pub async fn answer_code(&self, id: &str, code: &str, actor: &str) -> Result<Request> {
        let mut request = self.find(id).await?;
        let rec = self
            .store
            .answer_code(id)
            .await?
            .ok_or_else(|| RegisterError::Refused(format!("no code was sent for request {id}: send one first")))?;
        let now = Utc::now();
        let refused = |why: String| Err(RegisterError::Refused(why));
        match verification::check(&rec, code, now) {
            Check::Confirmed => {
                let t = request.identity_confirmed(&format!("replied to a code sent to {}", rec.sent_to), now.date_naive())?;
                self.store.record(&request, &t, actor, now).await?;
                self.store.drop_code(id).await?;
                Ok(request)
            }
            Check::Wrong { left } => {
                self.store.note(&request, "code_wrong", Some(&format!("{left} tries left")), actor, now).await?;
                refused(format!("that is not the code sent to {}: {left} tries left", rec.sent_to))
            }
            Check::Expired => {
                self.store.note(&request, "code_expired", None, actor, now).await?;
                refused("the code has expired: ask for a new one".into())
            }
            Check::Spent => {
                self.store.note(&request, "code_spent", None, actor, now).await?;
                refused("too many wrong answers: the code is spent; ask for a new one".into())
            }
        }
    }
}
