//! Email: one message with a plain-text and an HTML part (UTF-8, Vietnamese with
//! diacritics), our own Message-ID, an RFC 2047 subject and, when given, one-click
//! unsubscribe headers (RFC 2369 / RFC 8058); carried over SMTP, into a folder of `.eml`
//! files (the first-run mailbox, browsable at `/dev/mailbox`), or kept in memory (tests).
//!
//! Failure kinds over SMTP: a 5xx reply (recipient or message refused) is permanent;
//! 4xx replies, refused connections, TLS failures and timeouts are transient.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{SendError, Sent, SetupError, mask_email};
use crate::config::{EmailTransport, Settings, SmtpSecurity, SmtpSettings};

/// One email to one citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Ours and deterministic, `<notification-id@host>` (brackets added when missing), so
    /// a retried send carries the same id.
    pub message_id: String,
    /// An http(s) URL answering the one-click unsubscribe POST of RFC 8058.
    pub list_unsubscribe: Option<String>,
}

/// What the memory transport kept: the message and its raw RFC 5322 form.
#[derive(Debug, Clone)]
pub struct StoredEmail {
    pub message: EmailMessage,
    pub raw: Vec<u8>,
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        host: String,
        timeout: Duration,
    },
    /// The mailbox folder.
    File(PathBuf),
    Memory(Arc<Mutex<Vec<StoredEmail>>>),
}

/// The sender identity (`notify.email.from`, `reply_to`) and the transport.
#[derive(Clone)]
pub struct EmailBackend {
    from: Mailbox,
    reply_to: Option<Mailbox>,
    transport: Transport,
}

impl std::fmt::Debug for EmailBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailBackend")
            .field("provider", &self.provider())
            .finish_non_exhaustive()
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // Pre-encoded: the value is a serialised URL (printable ASCII, no spaces) in angle
        // brackets, which the RFC 2047 encoder must not touch.
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

fn smtp_transport(
    s: &SmtpSettings,
    host: &str,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SetupError> {
    let tls = |host: &str| {
        TlsParameters::new(host.into())
            .map_err(|e| SetupError(format!("notify.email.smtp TLS set-up: {e}")))
    };
    let security = match s.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(tls(host)?),
        SmtpSecurity::Tls => Tls::Wrapper(tls(host)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(s.port)
        .timeout(Some(Duration::from_millis(s.timeout_ms)))
        .tls(security);
    if let (Some(user), Some(password)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_owned(),
        ));
    }
    Ok(builder.build())
}

impl EmailBackend {
    /// The transport of `notify.email` (validated at load).
    pub fn from_settings(settings: &Settings) -> Result<Self, SetupError> {
        let e = &settings.notify.email;
        let mailbox = |setting: &str, value: &str| {
            value
                .parse::<Mailbox>()
                .map_err(|_| SetupError(format!("{setting} is not a mailbox")))
        };
        let from = mailbox("notify.email.from", &e.from)?;
        let reply_to = match &e.reply_to {
            Some(r) => Some(mailbox("notify.email.reply_to", r)?),
            None => None,
        };
        let transport = match e.transport {
            EmailTransport::File => Transport::File(e.mailbox_dir.clone()),
            EmailTransport::Memory => Transport::Memory(Arc::default()),
            EmailTransport::Smtp => {
                let host = e
                    .smtp
                    .host
                    .clone()
                    .filter(|h| !h.trim().is_empty())
                    .ok_or_else(|| SetupError("notify.email.smtp.host is unset".into()))?;
                Transport::Smtp {
                    transport: smtp_transport(&e.smtp, &host)?,
                    host,
                    timeout: e.timeout(),
                }
            }
        };
        Ok(Self {
            from,
            reply_to,
            transport,
        })
    }

    pub fn new(from: Mailbox, reply_to: Option<Mailbox>, transport: Transport) -> Self {
        Self {
            from,
            reply_to,
            transport,
        }
    }

    /// An in-memory backend, for tests: read it back with [`EmailBackend::stored`].
    pub fn memory(from: Mailbox) -> Self {
        Self::new(from, None, Transport::Memory(Arc::default()))
    }

    /// What the memory transport holds, oldest first (`None` for other transports).
    pub fn stored(&self) -> Option<Vec<StoredEmail>> {
        match &self.transport {
            Transport::Memory(store) => {
                Some(store.lock().unwrap_or_else(PoisonError::into_inner).clone())
            }
            _ => None,
        }
    }

    /// What [`Sent::provider`] will say: `smtp:<host>`, `file` or `memory`.
    pub fn provider(&self) -> String {
        match &self.transport {
            Transport::Smtp { host, .. } => format!("smtp:{host}"),
            Transport::File(_) => "file".into(),
            Transport::Memory(_) => "memory".into(),
        }
    }

    /// The RFC 5322 message for `m`: headers, then multipart/alternative text + HTML.
    pub fn build(&self, m: &EmailMessage) -> Result<Message, SendError> {
        let to: Address =
            m.to.trim()
                .parse()
                .map_err(|_| SendError::permanent("the recipient address is not valid"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(m.subject.replace(['\r', '\n'], " "))
            .date_now()
            .message_id(Some(message_id(&m.message_id)?));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(url) = &m.list_unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{}>", unsubscribe_url(url)?)))
                .header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                m.html.clone(),
            ))
            .map_err(|e| SendError::permanent(format!("cannot build the message: {e}")))
    }

    pub async fn send(&self, m: &EmailMessage) -> Result<Sent, SendError> {
        let message = self.build(m)?;
        let id = message_id(&m.message_id)?;
        let outcome = match &self.transport {
            Transport::Smtp {
                transport,
                host,
                timeout,
            } => send_smtp(transport, host, *timeout, message, &id).await,
            Transport::File(dir) => write_file(dir, &id, message.formatted()).await,
            Transport::Memory(store) => {
                store
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(StoredEmail {
                        message: m.clone(),
                        raw: message.formatted(),
                    });
                Ok(Sent {
                    provider: "memory".into(),
                    provider_id: id,
                })
            }
        };
        match &outcome {
            Ok(sent) => tracing::debug!(provider = %sent.provider, to = %mask_email(&m.to),
                                        "email handed over"),
            Err(e) => {
                tracing::debug!(provider = %self.provider(), kind = ?e.kind, detail = %e.detail,
                                      to = %mask_email(&m.to), "email not handed over")
            }
        }
        outcome
    }
}

/// `<id@host>`: brackets added when missing; no spaces, brackets or controls inside.
fn message_id(raw: &str) -> Result<String, SendError> {
    let inner = raw.trim();
    let inner = inner
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(inner);
    let ok = inner.len() <= 200
        && inner
            .split_once('@')
            .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty())
        && inner
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
    if ok {
        Ok(format!("<{inner}>"))
    } else {
        Err(SendError::permanent(
            "message_id is not of the form <id@host>",
        ))
    }
}

fn unsubscribe_url(raw: &str) -> Result<String, SendError> {
    match url::Url::parse(raw.trim()) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.as_str().len() <= 900 => {
            Ok(url.to_string())
        }
        _ => Err(SendError::permanent(
            "list_unsubscribe is not an http(s) URL",
        )),
    }
}

async fn send_smtp(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    host: &str,
    timeout: Duration,
    message: Message,
    id: &str,
) -> Result<Sent, SendError> {
    // lettre's own timeout covers the connection only: a server that accepts and then
    // says nothing must not hold the send for ever.
    let response = match tokio::time::timeout(timeout, transport.send(message)).await {
        Err(_) => {
            return Err(SendError::transient(format!(
                "smtp:{host}: no answer within {} ms",
                timeout.as_millis()
            )));
        }
        Ok(Err(e)) if e.is_permanent() => {
            return Err(SendError::permanent(format!("smtp:{host}: {e}")));
        }
        Ok(Err(e)) => return Err(SendError::transient(format!("smtp:{host}: {e}"))),
        Ok(Ok(response)) => response,
    };
    let queue_id = response.message().find_map(|line| {
        line.split_once("queued as ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(|id| {
                id.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                    .to_owned()
            })
    });
    Ok(Sent {
        provider: format!("smtp:{host}"),
        provider_id: queue_id
            .filter(|q| !q.is_empty())
            .unwrap_or_else(|| id.to_owned()),
    })
}

/// A name the mailbox writes and the dev pages accept: `[A-Za-z0-9][A-Za-z0-9._-]*.eml`,
/// nothing that could leave the folder.
pub fn is_mailbox_file_name(name: &str) -> bool {
    name.len() <= 240
        && name.ends_with(".eml")
        && !name.contains("..")
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `<timestamp>-<message id, sanitised>.eml`
fn mailbox_file_name(id: &str) -> String {
    let clean: String = id
        .trim_matches(['<', '>'])
        .chars()
        .take(160)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace("..", "_")
        .trim_end_matches('.')
        .to_owned();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    format!("{stamp}-{clean}.eml")
}

/// Writes the raw message beside its final name, syncs it, then renames: a reader never
/// sees half a message.
async fn write_file(dir: &Path, id: &str, raw: Vec<u8>) -> Result<Sent, SendError> {
    let dir = dir.to_path_buf();
    let name = mailbox_file_name(id);
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write as _;
        std::fs::create_dir_all(&dir)?;
        let temp = dir.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&raw)?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(&name))?;
        std::fs::File::open(&dir)?.sync_all()
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(Sent {
            provider: "file".into(),
            provider_id: id.to_owned(),
        }),
        Ok(Err(e)) => Err(SendError::transient(format!(
            "mailbox: cannot write the message: {e}"
        ))),
        Err(e) => Err(SendError::transient(format!("mailbox: write task: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_and_file_names() {
        assert_eq!(message_id("abc@host").as_deref(), Ok("<abc@host>"));
        assert_eq!(message_id(" <abc@host> ").as_deref(), Ok("<abc@host>"));
        assert!(message_id("no-at-sign").is_err());
        assert!(message_id("<a b@host>").is_err());
        assert!(message_id("a@host\r\nBcc: x@y").is_err());
        let name = mailbox_file_name("<0193a7c2-..x/../@civicpost.local>");
        assert!(is_mailbox_file_name(&name), "{name}");
        assert!(!name.contains('/') && !name.contains(".."), "{name}");
        assert!(!is_mailbox_file_name("../etc/passwd.eml"));
        assert!(!is_mailbox_file_name(".hidden.eml.tmp"));
        assert!(!is_mailbox_file_name("a%2F..%2Fb.eml"));
    }

    #[test]
    fn unsubscribe_urls_must_be_http() {
        assert_eq!(
            unsubscribe_url("https://x.vn/u/Đ?t=1").as_deref(),
            Ok("https://x.vn/u/%C4%90?t=1")
        );
        assert!(unsubscribe_url("javascript:alert(1)").is_err());
        assert!(unsubscribe_url("mailto:a@b").is_err());
    }
}
