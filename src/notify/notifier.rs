//! Everything the notification jobs share, built once at start from `[notify]`: the
//! templates, both transports, quiet hours and the channel policy.

use std::collections::HashSet;

use super::email::{EmailBackend, EmailMessage};
use super::sms::{SmsBackend, SmsMessage};
use super::templates::{RenderedEmail, Templates};
use super::{QuietHours, SendError, Sent, SetupError};
use crate::config::Settings;
use crate::domain::notification::MessageKind;
use crate::store::notifications::{EMAIL, SMS};

pub struct Notifier {
    pub templates: Templates,
    pub sms: SmsBackend,
    pub email: EmailBackend,
    pub quiet: QuietHours,
    urgent: HashSet<MessageKind>,
    /// The channel tried first (`sms` or `email`).
    pub primary: &'static str,
    /// Both channels for every message; off: the other channel only when the first fails.
    pub send_both: bool,
    pub pickup_hold_days: u32,
    pub public_base_url: String,
    /// The right-hand side of our Message-IDs.
    message_id_domain: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("sms", &self.sms.provider())
            .field("email", &self.email.provider())
            .field("primary", &self.primary)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// `service_base`: where this process reaches the service (the built-in SMS simulator
    /// lives there in sandbox mode).
    pub fn from_settings(settings: &Settings, service_base: &str) -> Result<Self, SetupError> {
        let n = &settings.notify;
        let public_base_url = settings
            .app
            .public_base_url
            .trim_end_matches('/')
            .to_owned();
        let templates = Templates::load(n.templates_dir.as_deref(), &public_base_url)
            .map_err(|e| SetupError(format!("notify.templates_dir: {e}")))?;
        let quiet = QuietHours::parse(&n.quiet_hours_start, &n.quiet_hours_end)
            .map_err(|e| SetupError(format!("notify.quiet_hours: {e}")))?;
        let urgent = n
            .urgent
            .iter()
            .filter_map(|k| MessageKind::parse(k))
            .collect();
        let message_id_domain = url::Url::parse(&public_base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "civicpost.local".to_owned());
        Ok(Self {
            templates,
            sms: SmsBackend::from_settings(settings, service_base)?,
            email: EmailBackend::from_settings(settings)?,
            quiet,
            urgent,
            primary: if n.primary_channel == "email" {
                EMAIL
            } else {
                SMS
            },
            send_both: n.send_both,
            pickup_hold_days: n.pickup_hold_days,
            public_base_url,
            message_id_domain,
        })
    }

    pub fn is_urgent(&self, kind: MessageKind) -> bool {
        self.urgent.contains(&kind)
    }

    /// The channels a message is planned on at first, in order.
    pub fn other(channel: &str) -> &'static str {
        if channel == SMS { EMAIL } else { SMS }
    }

    /// Whether a send cut off half-way may be repeated without a second message reaching
    /// the citizen: only through a gateway that answers a repeated request id with the first
    /// message instead of sending again.
    pub fn can_repeat(&self, channel: &str) -> bool {
        channel == SMS && self.sms.deduplicates_request_ids()
    }

    pub fn provider(&self, channel: &str) -> String {
        if channel == SMS {
            self.sms.provider().to_owned()
        } else {
            self.email.provider()
        }
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/unsubscribe/{token}", self.public_base_url)
    }

    /// `notification_id` is the gateway request id: stable across retries of one message.
    pub async fn send_sms(
        &self,
        phone: &str,
        text: &str,
        notification_id: &str,
    ) -> Result<Sent, SendError> {
        let sms = SmsMessage {
            phone: phone.to_owned(),
            text: text.to_owned(),
            request_id: notification_id.to_owned(),
        };
        self.sms.send(&sms).await
    }

    pub async fn send_email(
        &self,
        to: &str,
        email: RenderedEmail,
        notification_id: &str,
        unsubscribe_url: Option<&str>,
    ) -> Result<Sent, SendError> {
        let message = EmailMessage {
            to: to.to_owned(),
            subject: email.subject,
            text: email.text,
            html: email.html,
            message_id: format!("<{notification_id}@{}>", self.message_id_domain),
            list_unsubscribe: unsubscribe_url.map(str::to_owned),
        };
        self.email.send(&message).await
    }
}
