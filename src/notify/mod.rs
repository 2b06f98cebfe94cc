//! Citizen notifications: what each state change tells the citizen (templates, GSM-7 SMS
//! text, quiet hours), the transports that carry it (SMS through a brandname gateway or a
//! local outbox, email over SMTP or into a local mailbox), and what they answer. Deciding
//! when to send is the `notify` and `send_notification` jobs' (src/jobs/).

pub mod context;
pub mod email;
pub mod facts;
pub mod gsm7;
pub mod notifier;
pub mod quiet;
pub mod sms;
pub mod templates;

pub use notifier::Notifier;
pub use quiet::QuietHours;

/// Whether a failed send is worth trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// Timeouts, refused connections, 5xx and 4xx SMTP replies, HTTP 429 and 5xx, gateway
    /// codes that say "later": retry with backoff.
    Transient,
    /// An invalid number or address, an unknown brandname, rejected content, refused
    /// credentials: retrying the same message cannot succeed.
    Permanent,
}

/// A failed send. `detail` is for operators: it never holds a phone number, an email
/// address or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} failure: {detail}", match .kind { FailureKind::Transient => "transient", FailureKind::Permanent => "permanent" })]
pub struct SendError {
    pub kind: FailureKind,
    pub detail: String,
}

impl SendError {
    pub fn transient(detail: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Transient,
            detail: scrub(&detail.into()),
        }
    }

    pub fn permanent(detail: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Permanent,
            detail: scrub(&detail.into()),
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.kind == FailureKind::Permanent
    }
}

impl From<SendError> for crate::jobs::JobError {
    fn from(e: SendError) -> Self {
        match e.kind {
            FailureKind::Transient => crate::jobs::JobError::Retry(e.detail),
            FailureKind::Permanent => crate::jobs::JobError::Permanent(e.detail),
        }
    }
}

/// A transport that cannot be built from the settings (names the setting; no secrets).
#[derive(Debug, Clone, thiserror::Error)]
#[error("notifications: {0}")]
pub struct SetupError(pub String);

/// A message handed over: who took it and the id they gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// `smtp:<host>`, `file`, `memory`, the SMS gateway profile (`esms`…) or `outbox`.
    pub provider: String,
    /// The provider's id (SMTP queue id, gateway message id) or, without one, ours.
    pub provider_id: String,
}

/// Text from a server or gateway, made safe for logs and records: words holding an `@`
/// become `<address>`, runs of 7 or more digits become `<number>`, control characters go,
/// and it is cut at 300 characters.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(320));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.contains('@') {
            out.push_str("<address>");
            continue;
        }
        let mut digits = String::new();
        for c in word.chars().filter(|c| !c.is_control()) {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            flush_digits(&mut out, &mut digits);
            out.push(c);
        }
        flush_digits(&mut out, &mut digits);
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

fn flush_digits(out: &mut String, digits: &mut String) {
    if digits.len() >= 7 {
        out.push_str("<number>");
    } else {
        out.push_str(digits);
    }
    digits.clear();
}

/// `n***@example.com`: what logs may show of an address.
pub fn mask_email(address: &str) -> String {
    match address.trim().rsplit_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `09xx xxx 678`: what logs may show of a phone number.
pub fn mask_phone(phone: &str) -> String {
    match crate::domain::phone::MobileNumber::parse(phone) {
        Ok(n) => n.masked(),
        Err(_) => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_addresses_and_numbers() {
        let text = "550 5.1.1 <reject.me@example.com>: Recipient rejected, call 0912345678 x12";
        let clean = scrub(text);
        assert_eq!(
            clean,
            "550 5.1.1 <address> Recipient rejected, call <number> x12"
        );
        assert_eq!(scrub("a\r\nb"), "a b");
        assert!(scrub(&"x ".repeat(400)).ends_with('…'));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_email("nguyen.an@example.com"), "n***@example.com");
        assert_eq!(mask_email("junk"), "***");
        assert_eq!(mask_phone("+84912345678"), "09xx xxx 678");
        assert_eq!(mask_phone("12"), "***");
    }

    #[test]
    fn send_errors_become_job_errors() {
        let e: crate::jobs::JobError = SendError::permanent("invalid number").into();
        assert!(matches!(e, crate::jobs::JobError::Permanent(_)));
        let e: crate::jobs::JobError = SendError::transient("timeout").into();
        assert!(matches!(e, crate::jobs::JobError::Retry(_)));
    }
}
