//! Mail to the person making a request (their verification code), through the company's
//! SMTP server, named by a URL: `smtps://user:password@host:465` (TLS),
//! `smtp://user:password@host:587?tls=required` (STARTTLS), `smtp://host:25` (plain: the
//! loopback only, for a local relay or a test server). The password may be left out of
//! the URL and given as `FERRY_SMTP_PASSWORD`.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends one plain-text message.
pub async fn send(smtp_url: &str, from: &str, to: &str, subject: &str, body: &str) -> Result<(), String> {
    let url = url_with_password(smtp_url)?;
    let parsed = host_of(&url)?;
    if url.starts_with("smtp://") && !url.contains("tls=required") && !is_loopback(&parsed) {
        return Err(format!(
            "the SMTP server {parsed} is not on this machine: use smtps:// or smtp://…?tls=required, so that the code does not cross the network in clear"
        ));
    }
    let from: Mailbox = from.parse().map_err(|e| format!("the sender `{from}`: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("the address `{to}`: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| format!("making the message: {e}"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|e| format!("the SMTP URL: {e}"))?
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport.send(message).await.map_err(|e| format!("sending through {parsed}: {e}"))?;
    Ok(())
}

/// The URL, with `FERRY_SMTP_PASSWORD` put in when it names a user without a password.
fn url_with_password(url: &str) -> Result<String, String> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err(format!("`{url}` is not an SMTP URL (smtp:// or smtps://)"));
    }
    let Ok(password) = std::env::var("FERRY_SMTP_PASSWORD") else { return Ok(url.to_owned()) };
    let (scheme, rest) = url.split_once("://").expect("checked above");
    match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => {
            let enc: String = password
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            Ok(format!("{scheme}://{user}:{enc}@{host}"))
        }
        _ => Ok(url.to_owned()),
    }
}

/// `host[:port]` of the URL, without its credentials.
fn host_of(url: &str) -> Result<String, String> {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    if host.is_empty() {
        return Err("the SMTP URL names no server".into());
    }
    Ok(host.to_owned())
}

fn is_loopback(host_port: &str) -> bool {
    let host = host_port.rsplit_once(':').map(|x| x.0).unwrap_or(host_port).trim_matches(['[', ']']);
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_goes_to_the_loopback_only_and_credentials_stay_out_of_messages() {
        assert_eq!(host_of("smtps://u:secret@mail.example.com:465").unwrap(), "mail.example.com:465");
        assert!(is_loopback("127.0.0.1:2525") && is_loopback("[::1]:25") && is_loopback("localhost:25"));
        assert!(!is_loopback("mail.example.com:25"));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let e = rt.block_on(send("smtp://mail.example.com:25", "a@example.org", "b@example.org", "s", "b")).unwrap_err();
        assert!(e.contains("not on this machine"), "{e}");
        let e = rt.block_on(send("http://x", "a@example.org", "b@example.org", "s", "b")).unwrap_err();
        assert!(e.contains("not an SMTP URL"), "{e}");
    }
}
