//! One signed POST to an agency's endpoint, and what became of it.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::redirect::Policy;

use super::guard::{self, GuardedResolver, UrlProblem};
use crate::config::CallbacksSettings;

/// Longest excerpt of an answer kept with the attempt (never logged).
pub const EXCERPT_CHARS: usize = 200;
/// At most this much of an answer is read.
const READ_LIMIT: usize = 4096;

/// The Standard Webhooks headers of one attempt.
#[derive(Debug, Clone)]
pub struct Signed {
    pub webhook_id: String,
    pub timestamp: i64,
    pub signature: String,
}

/// How an attempt ended, for the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: done.
    Delivered,
    /// 410 Gone: the agency retired the endpoint; stop and disable it.
    Gone,
    /// Any other answer, a timeout or a network failure: try again later.
    Retry,
    /// The guard refused the address. `permanent` when the URL itself names the address
    /// (it cannot change); a name may resolve elsewhere later.
    Refused { permanent: bool },
}

/// One attempt as recorded in `callback_attempts`.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub verdict: Verdict,
    pub status_code: Option<u16>,
    /// What went wrong, without the URL (it may carry a token) and without the body.
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub duration: Duration,
}

/// The callback HTTP client: the guarded resolver, no proxy (a proxy would resolve names
/// itself, past the guard), no redirects, timeouts on every call.
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(settings: &CallbacksSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::shared(settings.allow_private_addresses))
            .no_proxy()
            .redirect(Policy::none())
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("civicpost-callbacks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private: settings.allow_private_addresses,
        })
    }

    /// POSTs `body` to `url` with the signature headers. Never fails: every outcome is an
    /// [`Attempt`].
    pub async fn post(&self, url: &str, signed: &Signed, body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let refused = |problem: UrlProblem, permanent: bool| Attempt {
            verdict: Verdict::Refused { permanent },
            status_code: None,
            error: Some(format!("not sent: {problem}")),
            response_excerpt: None,
            duration: started.elapsed(),
        };
        let parsed = match guard::parse(url) {
            Ok(parsed) => parsed,
            Err(problem) => return refused(problem, true),
        };
        if let Err(problem) = guard::check_host(&parsed, self.allow_private) {
            return refused(problem, true);
        }
        let headers = match headers(signed) {
            Some(h) => h,
            None => return refused(UrlProblem::Invalid, true),
        };
        let sent = self
            .client
            .post(parsed)
            .headers(headers)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                if let Some(problem) = guard::refusal_in(&e) {
                    return refused(problem.clone(), false);
                }
                return Attempt {
                    verdict: Verdict::Retry,
                    status_code: None,
                    error: Some(describe(&e)),
                    response_excerpt: None,
                    duration: started.elapsed(),
                };
            }
        };
        let status = response.status();
        let (excerpt, read_error) = excerpt(response).await;
        let verdict = if status.is_success() {
            Verdict::Delivered
        } else if status == reqwest::StatusCode::GONE {
            Verdict::Gone
        } else {
            Verdict::Retry
        };
        let error = match verdict {
            Verdict::Delivered => None,
            Verdict::Gone => Some("the endpoint answered 410 Gone: callbacks disabled".into()),
            _ if status.is_redirection() => Some(format!(
                "the endpoint answered {} (redirects are not followed)",
                status.as_u16()
            )),
            _ => Some(format!("the endpoint answered {}", status.as_u16())),
        };
        Attempt {
            verdict,
            status_code: Some(status.as_u16()),
            error: error.or(read_error),
            response_excerpt: excerpt,
            duration: started.elapsed(),
        }
    }
}

fn headers(signed: &Signed) -> Option<HeaderMap> {
    let mut map = HeaderMap::new();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    map.insert(
        "webhook-id",
        HeaderValue::from_str(&signed.webhook_id).ok()?,
    );
    map.insert("webhook-timestamp", HeaderValue::from(signed.timestamp));
    map.insert(
        "webhook-signature",
        HeaderValue::from_str(&signed.signature).ok()?,
    );
    Some(map)
}

/// The start of the answer, as text, for the operator; a failure to read it is noted only
/// when nothing else went wrong.
async fn excerpt(mut response: reqwest::Response) -> (Option<String>, Option<String>) {
    let mut bytes = Vec::new();
    let mut read_error = None;
    while bytes.len() < READ_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                read_error = Some(format!("reading the answer failed: {}", describe(&e)));
                break;
            }
        }
    }
    (excerpt_of(&bytes), read_error)
}

/// At most [`EXCERPT_CHARS`] characters, control characters as spaces; `None` when empty.
pub fn excerpt_of(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    let trimmed = out.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A transport failure in words, without the URL reqwest puts in its messages.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_single_line_text() {
        assert_eq!(excerpt_of(b""), None);
        assert_eq!(excerpt_of(b"  \n "), None);
        assert_eq!(
            excerpt_of(b"{\"ok\":false,\n\"why\":\"db down\"}").as_deref(),
            Some("{\"ok\":false, \"why\":\"db down\"}")
        );
        let long = "é".repeat(500);
        let cut = excerpt_of(long.as_bytes()).expect("text");
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            excerpt_of(&[0xff, b'o', b'k']).as_deref(),
            Some("\u{fffd}ok")
        );
    }
}
