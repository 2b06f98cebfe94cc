//! Message templates (minijinja): built into the binary from `templates/notify/`, and
//! replaceable file by file from `notify.templates_dir`, which the service reads at start.
//!
//! - `sms/<kind>.txt.j2`: the SMS, written in ordinary Vietnamese; the result is made
//!   unaccented GSM-7 and fitted into one 160-septet segment by shortening the long parts
//!   (procedure name, place, office, advice, reason, agency, name), never the dossier code,
//!   the tracking code or the link.
//! - `email/<kind>.txt.j2`: the email; its first line is the subject, the rest the plain
//!   text. `email/layout.html.j2` makes the HTML part from it (escaped), with the link as a
//!   button.
//!
//! Every template is rendered at load with the longest realistic inputs and with the
//! fewest, so a template that cannot work stops the start with its file named.

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::context::{Field, FieldMut, MessageContext};
use super::gsm7::{SEGMENT, is_gateway_safe, septets, transliterate};
use crate::domain::notification::MessageKind;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/notify/", $name)))),*]
    };
}

/// The built-in templates, by the name an override file must have.
const BUILT_IN: &[(&str, &str)] = builtin![
    "sms/created.txt.j2",
    "sms/out_for_delivery.txt.j2",
    "sms/delivery_failed.txt.j2",
    "sms/ready_for_pickup.txt.j2",
    "sms/delivered.txt.j2",
    "sms/on_hold.txt.j2",
    "sms/returning.txt.j2",
    "sms/returned.txt.j2",
    "sms/lost.txt.j2",
    "email/created.txt.j2",
    "email/out_for_delivery.txt.j2",
    "email/delivery_failed.txt.j2",
    "email/ready_for_pickup.txt.j2",
    "email/delivered.txt.j2",
    "email/on_hold.txt.j2",
    "email/returning.txt.j2",
    "email/returned.txt.j2",
    "email/lost.txt.j2",
    "email/footer.txt.j2",
    "email/layout.html.j2",
];

/// Shortened first to last until the SMS fits.
const SHORTENABLE: [Field; 7] = [
    Field::ProcedureName,
    Field::Advice,
    Field::Place,
    Field::AgencyOffice,
    Field::Reason,
    Field::AgencyName,
    Field::RecipientName,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
    #[error("{dir}: {reason}")]
    Folder { dir: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {file}: {reason}")]
pub struct RenderError {
    pub file: String,
    pub reason: String,
}

/// An email, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

fn sms_name(kind: MessageKind) -> String {
    format!("sms/{}.txt.j2", kind.as_str())
}

fn email_name(kind: MessageKind) -> String {
    format!("email/{}.txt.j2", kind.as_str())
}

const LAYOUT: &str = "email/layout.html.j2";

impl Templates {
    /// The built-in templates, with those in `dir` (same relative names) in their place.
    /// `public_base_url` starts every link: the SMS check at load uses the real one, so an
    /// address too long for any SMS to carry stops the start.
    pub fn load(dir: Option<&Path>, public_base_url: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, source) in BUILT_IN {
            let source = match dir {
                Some(dir) => read_override(dir, name)?.unwrap_or_else(|| (*source).to_owned()),
                None => (*source).to_owned(),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| invalid(name, &e))?;
        }
        if let Some(dir) = dir {
            reject_unknown_files(dir)?;
        }
        let templates = Self { env };
        templates.check(public_base_url.trim_end_matches('/'))?;
        Ok(templates)
    }

    /// Renders every template with the longest and the shortest inputs.
    fn check(&self, base: &str) -> Result<(), TemplateError> {
        let as_invalid = |e: RenderError| TemplateError::Invalid {
            file: e.file,
            reason: e.reason,
        };
        for ctx in [
            MessageContext::sample_longest(base),
            MessageContext::sample_minimal(base),
        ] {
            for kind in MessageKind::ALL {
                self.render_sms(kind, &ctx).map_err(as_invalid)?;
                self.render_email(kind, &ctx).map_err(as_invalid)?;
            }
        }
        Ok(())
    }

    fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, RenderError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| RenderError {
                file: name.to_owned(),
                reason: describe(&e),
            })
    }

    /// One GSM-7 segment: unaccented, gateway-safe, at most 160 septets.
    pub fn render_sms(
        &self,
        kind: MessageKind,
        ctx: &MessageContext,
    ) -> Result<String, RenderError> {
        let name = sms_name(kind);
        let mut ctx = ctx.map_text(transliterate);
        let mut text = tidy(&transliterate(&self.render(&name, &ctx)?));
        for field in SHORTENABLE {
            while septets(&text) > SEGMENT {
                let excess = septets(&text) - SEGMENT;
                if !shorten(ctx.field_mut(field), excess) {
                    break;
                }
                text = tidy(&transliterate(&self.render(&name, &ctx)?));
            }
        }
        if septets(&text) > SEGMENT {
            return Err(RenderError {
                file: name,
                reason: format!(
                    "the SMS takes {} characters even with every long part shortened; at most \
                     {SEGMENT} fit one segment. It reads: {text}",
                    septets(&text)
                ),
            });
        }
        debug_assert!(is_gateway_safe(&text));
        Ok(text)
    }

    /// Subject, plain text and HTML, in Vietnamese with diacritics.
    pub fn render_email(
        &self,
        kind: MessageKind,
        ctx: &MessageContext,
    ) -> Result<RenderedEmail, RenderError> {
        let name = email_name(kind);
        let rendered = self.render(&name, ctx)?;
        let rendered = rendered.trim_start();
        let (subject, body) = rendered.split_once('\n').unwrap_or((rendered, ""));
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        if subject.is_empty() {
            return Err(RenderError {
                file: name,
                reason: "the first line (the subject) is empty".to_owned(),
            });
        }
        let text = body.trim().to_owned() + "\n";
        let paragraphs: Vec<Vec<&str>> = text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.lines().collect())
            .collect();
        let html = self.render(
            LAYOUT,
            minijinja::context! { subject => &subject, paragraphs => paragraphs, message => ctx },
        )?;
        Ok(RenderedEmail {
            subject,
            text,
            html,
        })
    }
}

/// Cuts `field` by about `excess` characters at a word boundary with `...`, or drops it
/// when too little would be left; `false` when there is nothing left to cut.
fn shorten(field: FieldMut<'_>, excess: usize) -> bool {
    let current = match &field {
        FieldMut::Optional(v) => v.as_deref().unwrap_or(""),
        FieldMut::Required(v) => v.as_str(),
    };
    let len = current.chars().count();
    if len == 0 {
        return false;
    }
    let keep = len.saturating_sub(excess + 3);
    let cut = if keep < 8 {
        String::new()
    } else {
        let head: String = current.chars().take(keep).collect();
        let head = match head.rfind(' ') {
            Some(i) if i >= keep / 2 => &head[..i],
            _ => head.as_str(),
        };
        format!("{}...", head.trim_end_matches([' ', ',', ';', '-', '.']))
    };
    match field {
        FieldMut::Optional(v) => *v = (!cut.is_empty()).then_some(cut),
        FieldMut::Required(v) => *v = cut,
    }
    true
}

/// One line, single spaces: template line breaks and blanks left by empty fields go.
fn tidy(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
        .replace(" ,", ",")
        // A shortened part ends in "..." and the template may add its own full stop.
        .replace("....", "...")
}

fn read_override(dir: &Path, name: &str) -> Result<Option<String>, TemplateError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(source) => Ok(Some(source)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TemplateError::Invalid {
            file: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// A misspelt file name would otherwise be ignored without a word.
fn reject_unknown_files(dir: &Path) -> Result<(), TemplateError> {
    for sub in ["sms", "email"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = format!("{sub}/{}", entry.file_name().to_string_lossy());
            if name.ends_with(".j2") && !BUILT_IN.iter().any(|(known, _)| *known == name) {
                return Err(TemplateError::Folder {
                    dir: dir.display().to_string(),
                    reason: format!(
                        "{name} is not a template this service uses; the names are those of \
                         templates/notify/ in the source (for example sms/created.txt.j2)"
                    ),
                });
            }
        }
    }
    if !dir.is_dir() {
        return Err(TemplateError::Folder {
            dir: dir.display().to_string(),
            reason: "no such folder".to_owned(),
        });
    }
    Ok(())
}

fn invalid(name: &str, e: &minijinja::Error) -> TemplateError {
    TemplateError::Invalid {
        file: name.to_owned(),
        reason: describe(e),
    }
}

/// The error with its line, as minijinja reports it.
fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("line {line}: {}", e.detail().unwrap_or(&e.to_string())),
        None => e.to_string(),
    }
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
