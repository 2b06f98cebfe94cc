//! `[notify]`: citizen notifications — quiet hours, which messages may break them, and the
//! SMS and email transports with their credentials.
//!
//! First run needs nothing: SMS go to a JSON-lines outbox and email to a folder of `.eml`
//! files, both under `./data` beside the SQLite default.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::ConfigError;

pub const DEFAULT_SMS_OUTBOX_DIR: &str = "./data/sms-outbox";
pub const DEFAULT_MAILBOX_DIR: &str = "./data/mailbox";
pub const DEFAULT_EMAIL_FROM: &str = "Bưu chính công <no-reply@civicpost.local>";

/// The message kinds `notify.urgent` may name (one per citizen-facing state).
pub const MESSAGE_KINDS: [&str; 9] = [
    "created",
    "out_for_delivery",
    "delivery_failed",
    "ready_for_pickup",
    "delivered",
    "on_hold",
    "returning",
    "returned",
    "lost",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Read message templates from this folder instead of the copies built into the binary.
    pub templates_dir: Option<PathBuf>,
    /// No SMS from this local time (Asia/Ho_Chi_Minh), `HH:MM`…
    pub quiet_hours_start: String,
    /// …until this one; held messages go out then.
    pub quiet_hours_end: String,
    /// Message kinds sent even in quiet hours.
    pub urgent: Vec<String>,
    /// Days a post office holds a parcel for the citizen (said in "ready for pickup").
    pub pickup_hold_days: u32,
    /// The channel each message is tried on first: `sms` or `email`.
    pub primary_channel: String,
    /// Every message on both channels when the citizen has both; off: the other channel
    /// only stands in when the first fails for good (or cannot be used).
    pub send_both: bool,
    pub sms: SmsSettings,
    pub email: EmailSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    /// Appends each SMS to a JSON-lines file (`outbox_dir`): the first-run default.
    Outbox,
    /// A brandname gateway over HTTP.
    Gateway,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    pub transport: SmsTransport,
    pub outbox_dir: PathBuf,
    pub gateway: GatewaySettings,
}

/// How a gateway wants its request: a JSON body or an HTML form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestFormat {
    Json,
    Form,
}

/// How the phone number is written in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneFormat {
    /// `0912345678`
    National,
    /// `+84912345678`
    E164,
    /// `84912345678`
    International,
    /// As stored, untouched.
    AsIs,
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.filter(|v| !v.trim().is_empty()))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// The send endpoint. Unset (or empty, as an unset variable in docker-compose gives) in
    /// sandbox mode: the built-in simulator at `<public_base_url>/sim/sms` (which speaks the
    /// `esms` profile).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub url: Option<String>,
    /// `esms` (eSMS.vn's JSON API, built in), or any other name for a gateway described
    /// entirely by `request` and `response`. It names the provider in delivery records.
    pub profile: String,
    pub api_key: SecretString,
    pub secret_key: SecretString,
    /// The registered sender name shown on the phone.
    pub brandname: String,
    /// Limit of one whole call: connection, request and answer.
    pub timeout_ms: u64,
    /// Overrides of the profile's request shape.
    #[serde(default)]
    pub request: GatewayRequestShape,
    /// Overrides of the profile's answer shape.
    #[serde(default)]
    pub response: GatewayResponseShape,
}

/// Each key set here replaces the profile's; an empty field name means "not sent".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayRequestShape {
    pub format: Option<RequestFormat>,
    pub phone_format: Option<PhoneFormat>,
    pub phone_field: Option<String>,
    pub text_field: Option<String>,
    pub brandname_field: Option<String>,
    pub request_id_field: Option<String>,
    pub api_key_field: Option<String>,
    pub secret_key_field: Option<String>,
    /// Sent as they are in every request, over the profile's (a value "" drops a key).
    pub extra: BTreeMap<String, String>,
}

/// Where the answer says what happened; fields may be dotted paths (`data.id`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayResponseShape {
    pub message_id_field: Option<String>,
    /// Unset (in a custom profile): any HTTP 2xx answer is a success.
    pub status_field: Option<String>,
    pub error_field: Option<String>,
    pub success_codes: Option<Vec<String>>,
    /// Codes that no retry can fix (invalid number, unknown brandname, rejected content).
    pub permanent_codes: Option<Vec<String>>,
    /// Codes meaning "this request id was already accepted": a success.
    pub duplicate_codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    /// One `.eml` file per message in `mailbox_dir`: the first-run default.
    File,
    Smtp,
    /// Kept in process (tests).
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    pub mailbox_dir: PathBuf,
    /// A mailbox: `Name <address>` or a bare address.
    pub from: String,
    pub reply_to: Option<String>,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: local relays and test servers only.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// Limit of one whole send: connection, dialogue and answer.
    pub timeout_ms: u64,
}

pub(super) fn defaults() -> serde_json::Value {
    serde_json::json!({
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "07:00",
        "urgent": [],
        "pickup_hold_days": 7,
        "primary_channel": "sms",
        "send_both": true,
        "sms": {
            "transport": "outbox",
            "outbox_dir": DEFAULT_SMS_OUTBOX_DIR,
            "gateway": { "profile": "esms", "api_key": "", "secret_key": "", "brandname": "",
                         "timeout_ms": 10_000 },
        },
        "email": {
            "transport": "file",
            "mailbox_dir": DEFAULT_MAILBOX_DIR,
            "from": DEFAULT_EMAIL_FROM,
            "smtp": { "port": 587, "security": "starttls", "timeout_ms": 10_000 },
        },
    })
}

fn invalid(setting: &'static str, problem: impl Into<String>, fix: &str) -> ConfigError {
    ConfigError::Invalid {
        setting,
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// `HH:MM`, 00:00 to 23:59.
pub fn parse_hh_mm(value: &str) -> Option<chrono::NaiveTime> {
    let b = value.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    chrono::NaiveTime::parse_from_str(value, "%H:%M").ok()
}

impl NotifySettings {
    /// Start and end of the quiet hours (validated at load).
    pub fn quiet_hours(&self) -> (chrono::NaiveTime, chrono::NaiveTime) {
        let midnight = chrono::NaiveTime::MIN;
        (
            parse_hh_mm(&self.quiet_hours_start).unwrap_or(midnight),
            parse_hh_mm(&self.quiet_hours_end).unwrap_or(midnight),
        )
    }

    pub(super) fn validate(&self, sandbox: bool) -> Result<(), ConfigError> {
        for (setting, value) in [
            ("notify.quiet_hours_start", &self.quiet_hours_start),
            ("notify.quiet_hours_end", &self.quiet_hours_end),
        ] {
            if parse_hh_mm(value).is_none() {
                return Err(invalid(
                    setting,
                    format!("'{value}' is not a time of day"),
                    "write HH:MM on a 24-hour clock, e.g. \"21:00\"",
                ));
            }
        }
        if let Some(kind) = self
            .urgent
            .iter()
            .find(|k| !MESSAGE_KINDS.contains(&k.as_str()))
        {
            return Err(invalid(
                "notify.urgent",
                format!("names '{kind}', which is not a message kind"),
                &format!("choose among {}", MESSAGE_KINDS.join(", ")),
            ));
        }
        if !["sms", "email"].contains(&self.primary_channel.as_str()) {
            return Err(invalid(
                "notify.primary_channel",
                format!("is '{}'", self.primary_channel),
                "choose sms or email",
            ));
        }
        if !(1..=60).contains(&self.pickup_hold_days) {
            return Err(invalid(
                "notify.pickup_hold_days",
                format!("is {}", self.pickup_hold_days),
                "choose 1 to 60 days (7 is usual)",
            ));
        }
        self.sms.validate(sandbox)?;
        self.email.validate()
    }

    /// This section as TOML, secrets masked.
    pub(super) fn to_masked_toml(&self, out: &mut String) {
        let dir = self.templates_dir.as_ref().map_or(
            "# templates_dir unset: built into the binary".to_owned(),
            |d| format!("templates_dir = {:?}", d.display().to_string()),
        );
        let _ = writeln!(
            out,
            "[notify]\n{dir}\nquiet_hours_start = {:?}\nquiet_hours_end = {:?}\nurgent = {:?}\n\
             pickup_hold_days = {}\n",
            self.quiet_hours_start, self.quiet_hours_end, self.urgent, self.pickup_hold_days
        );
        self.sms.to_masked_toml(out);
        self.email.to_masked_toml(out);
    }
}

fn secret_mask(s: &SecretString) -> &'static str {
    if s.expose_secret().is_empty() {
        "\"\""
    } else {
        "\"***\""
    }
}

impl GatewaySettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl SmsSettings {
    fn validate(&self, sandbox: bool) -> Result<(), ConfigError> {
        let g = &self.gateway;
        if !(100..=120_000).contains(&g.timeout_ms) {
            return Err(invalid(
                "notify.sms.gateway.timeout_ms",
                format!("is {}", g.timeout_ms),
                "choose 100 to 120000 (10000 is usual)",
            ));
        }
        if let Some(url) = &g.url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "notify.sms.gateway.url",
                "is not an http(s) URL",
                "use the gateway's send endpoint, e.g. https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
            ));
        }
        let shape = crate::notify::sms::shape::Shape::resolve(g)?;
        if self.transport != SmsTransport::Gateway {
            return Ok(());
        }
        if g.url.is_none() && !(sandbox && g.profile == crate::notify::sms::shape::ESMS) {
            return Err(invalid(
                "notify.sms.gateway.url",
                "is unset with notify.sms.transport = \"gateway\"",
                "set the gateway's send endpoint (only the esms profile has a built-in \
                 simulator, in sandbox mode), or transport = \"outbox\"",
            ));
        }
        if sandbox {
            return Ok(());
        }
        let needed: [(&'static str, bool, bool); 3] = [
            (
                "notify.sms.gateway.api_key",
                shape.api_key_field.is_some(),
                g.api_key.expose_secret().is_empty(),
            ),
            (
                "notify.sms.gateway.secret_key",
                shape.secret_key_field.is_some(),
                g.secret_key.expose_secret().is_empty(),
            ),
            (
                "notify.sms.gateway.brandname",
                shape.brandname_field.is_some(),
                g.brandname.trim().is_empty(),
            ),
        ];
        match needed.into_iter().find(|(_, used, empty)| *used && *empty) {
            Some((setting, ..)) => Err(invalid(
                setting,
                "is empty with notify.sms.transport = \"gateway\" outside sandbox mode",
                "set it from the gateway contract (CIVICPOST__NOTIFY__SMS__GATEWAY__…), or \
                 transport = \"outbox\"",
            )),
            None => Ok(()),
        }
    }

    fn to_masked_toml(&self, out: &mut String) {
        let transport = match self.transport {
            SmsTransport::Outbox => "outbox",
            SmsTransport::Gateway => "gateway",
        };
        let _ = writeln!(
            out,
            "[notify.sms]\ntransport = {transport:?}\noutbox_dir = {:?}\n",
            self.outbox_dir.display().to_string()
        );
        let g = &self.gateway;
        let url = g.url.as_ref().map_or(
            "# url unset: built-in simulator in sandbox mode".into(),
            |u| format!("url = {:?}", crate::store::redact_url(u)),
        );
        let _ = writeln!(
            out,
            "[notify.sms.gateway]\n{url}\nprofile = {:?}\napi_key = {}\nsecret_key = {}\n\
             brandname = {:?}\ntimeout_ms = {}\n",
            g.profile,
            secret_mask(&g.api_key),
            secret_mask(&g.secret_key),
            g.brandname,
            g.timeout_ms
        );
        // The shape holds field names and codes, never secrets.
        for (name, value) in [
            ("request", toml::Value::try_from(&g.request)),
            ("response", toml::Value::try_from(&g.response)),
        ] {
            let Ok(toml::Value::Table(table)) = value else {
                continue;
            };
            let lines: Vec<String> = table
                .iter()
                .filter(|(_, v)| !matches!(v, toml::Value::Table(t) if t.is_empty()))
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            if !lines.is_empty() {
                let _ = writeln!(out, "[notify.sms.gateway.{name}]\n{}\n", lines.join("\n"));
            }
        }
    }
}

impl EmailSettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.smtp.timeout_ms)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let fix_mailbox = "write a mailbox such as \"Bưu chính công <no-reply@example.gov.vn>\"";
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "notify.email.from",
                format!("'{}' is not a mailbox", self.from),
                fix_mailbox,
            ));
        }
        if let Some(reply_to) = &self.reply_to
            && reply_to.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err(invalid(
                "notify.email.reply_to",
                format!("'{reply_to}' is not a mailbox"),
                fix_mailbox,
            ));
        }
        let s = &self.smtp;
        if !(100..=300_000).contains(&s.timeout_ms) {
            return Err(invalid(
                "notify.email.smtp.timeout_ms",
                format!("is {}", s.timeout_ms),
                "choose 100 to 300000 (10000 is usual)",
            ));
        }
        if s.username.is_some() != s.password.is_some() {
            return Err(invalid(
                "notify.email.smtp.password",
                "is needed with notify.email.smtp.username, and only with it",
                "set both username and password, or neither",
            ));
        }
        if self.transport != EmailTransport::Smtp {
            return Ok(());
        }
        let Some(host) = s.host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Err(invalid(
                "notify.email.smtp.host",
                "is unset with notify.email.transport = \"smtp\"",
                "set the SMTP server's name, e.g. smtp.example.gov.vn, or transport = \"file\"",
            ));
        };
        if s.port == 0 {
            return Err(invalid(
                "notify.email.smtp.port",
                "is 0",
                "use 587, 465 or 25",
            ));
        }
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
        if s.security == SmtpSecurity::None && s.username.is_some() && !loopback {
            return Err(invalid(
                "notify.email.smtp.security",
                "is \"none\" with credentials for a remote server: the password would cross \
                 the network in clear",
                "use security = \"starttls\" (port 587) or \"tls\" (port 465)",
            ));
        }
        Ok(())
    }

    fn to_masked_toml(&self, out: &mut String) {
        let transport = match self.transport {
            EmailTransport::File => "file",
            EmailTransport::Smtp => "smtp",
            EmailTransport::Memory => "memory",
        };
        let reply_to = self
            .reply_to
            .as_ref()
            .map_or("# reply_to unset".into(), |r| format!("reply_to = {r:?}"));
        let _ = writeln!(
            out,
            "[notify.email]\ntransport = {transport:?}\nmailbox_dir = {:?}\nfrom = {:?}\n{reply_to}\n",
            self.mailbox_dir.display().to_string(),
            self.from
        );
        let s = &self.smtp;
        let security = match s.security {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        };
        let host = s
            .host
            .as_ref()
            .map_or("# host unset".into(), |h| format!("host = {h:?}"));
        let user = s
            .username
            .as_ref()
            .map_or("# username unset".into(), |u| format!("username = {u:?}"));
        let password = s.password.as_ref().map_or("# password unset".into(), |p| {
            format!("password = {}", secret_mask(p))
        });
        let _ = writeln!(
            out,
            "[notify.email.smtp]\n{host}\nport = {}\nsecurity = {security:?}\n{user}\n{password}\n\
             timeout_ms = {}\n",
            s.port, s.timeout_ms
        );
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
