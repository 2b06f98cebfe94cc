//! Sandbox-only pages that stand in for the citizen's inbox and phone: `/dev/mailbox` (the
//! file mailbox, newest first), `/dev/mailbox/{file}` (one message: headers, the HTML part
//! in a sandboxed frame, the text part, the raw `.eml`), and `/dev/sms` (the SMS outbox).
//! Routed only in sandbox mode, and each only when its transport is the local one.

use std::path::{Path, PathBuf};

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::config::{EmailTransport, Settings, SmsTransport};
use crate::notify::email::is_mailbox_file_name;
use crate::notify::sms::outbox::{self, OutboxEntry};

/// Most entries a list shows.
const LIST_LIMIT: usize = 200;

const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// The HTML part: no script, no fetching, a unique origin; framed by our page only.
const PART_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     sandbox; frame-ancestors 'self'";

/// The dev routes the settings call for (none outside sandbox mode).
pub fn configure(settings: &Settings) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let sandbox = settings.app.sandbox;
    let mailbox = sandbox && settings.notify.email.transport == EmailTransport::File;
    let sms = sandbox && settings.notify.sms.transport == SmsTransport::Outbox;
    move |cfg| {
        if mailbox {
            cfg.route("/dev/mailbox", web::get().to(mailbox_list))
                .route("/dev/mailbox/{file}", web::get().to(mailbox_message))
                .route("/dev/mailbox/{file}/html", web::get().to(mailbox_html))
                .route("/dev/mailbox/{file}/raw", web::get().to(mailbox_raw));
        }
        if sms {
            cfg.route("/dev/sms", web::get().to(sms_list));
        }
    }
}

struct MailRow {
    file: String,
    date: String,
    subject: String,
    to: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Hộp thư (sandbox)</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}</style></head>
<body><h1>Hộp thư thử nghiệm / Sandbox mailbox</h1>
<p>{{ rows.len() }} thư, mới nhất trước / newest first. SMS: <a href="/dev/sms">/dev/sms</a></p>
<table><tr><th>Ngày / Date</th><th>Tiêu đề / Subject</th><th>Người nhận / To</th></tr>
{% for r in rows %}<tr><td>{{ r.date }}</td><td><a href="/dev/mailbox/{{ r.file }}">{{ r.subject }}</a></td><td>{{ r.to }}</td></tr>
{% endfor %}</table></body></html>"#
)]
struct MailboxPage {
    rows: Vec<MailRow>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{ subject }}</title>
<style>body{font-family:sans-serif;margin:2em}iframe{width:100%;height:32em;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head>
<body><p><a href="/dev/mailbox">← Hộp thư / Mailbox</a> · <a href="/dev/mailbox/{{ file }}/raw">.eml</a></p>
<h1>{{ subject }}</h1>
<dl><dt>Ngày / Date</dt><dd>{{ date }}</dd><dt>Từ / From</dt><dd>{{ from }}</dd><dt>Đến / To</dt><dd>{{ to }}</dd><dt>Message-ID</dt><dd>{{ message_id }}</dd></dl>
<h2>HTML</h2><iframe sandbox src="/dev/mailbox/{{ file }}/html" title="HTML"></iframe>
<h2>Văn bản / Text</h2><pre>{{ text }}</pre></body></html>"#
)]
struct MessagePage {
    file: String,
    subject: String,
    date: String,
    from: String,
    to: String,
    message_id: String,
    text: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>SMS (sandbox)</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}</style></head>
<body><h1>SMS thử nghiệm / Sandbox SMS outbox</h1>
<p>{{ rows.len() }} tin, mới nhất trước / newest first. Email: <a href="/dev/mailbox">/dev/mailbox</a></p>
<table><tr><th>Thời gian / Time</th><th>Số / Phone</th><th>Nội dung / Text</th><th>Request id</th></tr>
{% for r in rows %}<tr><td>{{ r.time.to_rfc3339() }}</td><td>{{ r.phone }}</td><td>{{ r.text }}</td><td>{{ r.request_id }}</td></tr>
{% endfor %}</table></body></html>"#
)]
struct SmsPage {
    rows: Vec<OutboxEntry>,
}

fn html(template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header(("Content-Security-Policy", PAGE_CSP))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "dev page did not render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Không có thư này / no such message")
}

fn mailbox_dir(state: &AppState) -> PathBuf {
    state.settings.notify.email.mailbox_dir.clone()
}

/// The `.eml` names of the folder, newest first (names start with the time written).
fn mailbox_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_mailbox_file_name(name))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    names.truncate(LIST_LIMIT);
    names
}

fn first_address(address: Option<&mail_parser::Address<'_>>) -> String {
    address
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (None, Some(addr)) => addr.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .unwrap_or_default()
}

/// The raw message of a valid name in the folder.
async fn read_message(dir: PathBuf, file: &str) -> Option<Vec<u8>> {
    if !is_mailbox_file_name(file) {
        return None;
    }
    let path = dir.join(file);
    web::block(move || std::fs::read(path)).await.ok()?.ok()
}

async fn mailbox_list(state: web::Data<AppState>) -> HttpResponse {
    let dir = mailbox_dir(&state);
    let rows = web::block(move || {
        let parser = mail_parser::MessageParser::default();
        mailbox_files(&dir)
            .into_iter()
            .filter_map(|file| {
                let raw = std::fs::read(dir.join(&file)).ok()?;
                let m = parser.parse(&raw)?;
                Some(MailRow {
                    date: m.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
                    subject: m.subject().unwrap_or("(no subject)").to_owned(),
                    to: first_address(m.to()),
                    file,
                })
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    html(&MailboxPage { rows })
}

async fn mailbox_message(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    let Some(raw) = read_message(mailbox_dir(&state), &file).await else {
        return not_found();
    };
    let Some(m) = mail_parser::MessageParser::default().parse(&raw) else {
        return not_found();
    };
    html(&MessagePage {
        file: file.into_inner(),
        subject: m.subject().unwrap_or("(no subject)").to_owned(),
        date: m.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        from: first_address(m.from()),
        to: first_address(m.to()),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
    })
}

async fn mailbox_html(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    let Some(raw) = read_message(mailbox_dir(&state), &file).await else {
        return not_found();
    };
    let Some(body) = mail_parser::MessageParser::default()
        .parse(&raw)
        .and_then(|m| m.body_html(0).map(|h| h.into_owned()))
    else {
        return not_found();
    };
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("Content-Security-Policy", PART_CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

async fn mailbox_raw(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    match read_message(mailbox_dir(&state), &file).await {
        Some(raw) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(raw),
        None => not_found(),
    }
}

async fn sms_list(state: web::Data<AppState>) -> HttpResponse {
    let dir = state.settings.notify.sms.outbox_dir.clone();
    let mut rows = web::block(move || outbox::read(&dir))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    rows.reverse();
    rows.truncate(LIST_LIMIT);
    html(&SmsPage { rows })
}
