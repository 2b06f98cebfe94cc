use serde_json::json;

use super::{EmailTransport, SmsTransport, SmtpSecurity};
use crate::config::Settings;

fn error_of(overrides: serde_json::Value) -> String {
    match Settings::with_overrides(overrides) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn first_run_defaults_need_nothing() {
    let s = Settings::with_overrides(json!({})).expect("defaults");
    let n = &s.notify;
    assert_eq!(n.sms.transport, SmsTransport::Outbox);
    assert_eq!(n.sms.outbox_dir.to_str(), Some("./data/sms-outbox"));
    assert_eq!(n.email.transport, EmailTransport::File);
    assert_eq!(n.email.mailbox_dir.to_str(), Some("./data/mailbox"));
    assert_eq!(n.email.from, "Bưu chính công <no-reply@civicpost.local>");
    assert_eq!(n.email.smtp.port, 587);
    assert_eq!(n.email.smtp.security, SmtpSecurity::Starttls);
    assert_eq!(n.email.smtp.timeout_ms, 10_000);
    assert_eq!(n.sms.gateway.profile, "esms");
    assert_eq!(n.pickup_hold_days, 7);
    assert!(n.urgent.is_empty());
    let (start, end) = n.quiet_hours();
    assert_eq!(start.to_string(), "21:00:00");
    assert_eq!(end.to_string(), "07:00:00");
    // Sandbox: a gateway without url is the simulator.
    let s = Settings::with_overrides(json!({"notify": {"sms": {"transport": "gateway"}}}))
        .expect("sandbox gateway");
    assert!(s.notify.sms.gateway.url.is_none());
    // An empty URL (an unset variable in docker-compose) is no URL.
    let s = Settings::with_overrides(json!({"notify": {"sms": {"gateway": {"url": " "}}}}))
        .expect("empty url");
    assert!(s.notify.sms.gateway.url.is_none());
}

#[test]
fn bad_values_name_the_setting() {
    for (overrides, setting) in [
        (
            json!({"notify": {"quiet_hours_start": "9pm"}}),
            "notify.quiet_hours_start",
        ),
        (
            json!({"notify": {"quiet_hours_end": "24:00"}}),
            "notify.quiet_hours_end",
        ),
        (
            json!({"notify": {"quiet_hours_end": "7:00"}}),
            "notify.quiet_hours_end",
        ),
        (
            json!({"notify": {"urgent": ["delivered", "shipped"]}}),
            "notify.urgent",
        ),
        (
            json!({"notify": {"pickup_hold_days": 0}}),
            "notify.pickup_hold_days",
        ),
        (
            json!({"notify": {"primary_channel": "fax"}}),
            "notify.primary_channel",
        ),
        (
            json!({"notify": {"email": {"from": "not a mailbox"}}}),
            "notify.email.from",
        ),
        (
            json!({"notify": {"email": {"reply_to": "@"}}}),
            "notify.email.reply_to",
        ),
        (
            json!({"notify": {"email": {"transport": "smtp"}}}),
            "notify.email.smtp.host",
        ),
        (
            json!({"notify": {"email": {"smtp": {"username": "u"}}}}),
            "notify.email.smtp.password",
        ),
        (
            json!({"notify": {"email": {"transport": "smtp", "smtp": {
                "host": "smtp.example.vn", "security": "none", "username": "u", "password": "p"}}}}),
            "notify.email.smtp.security",
        ),
        (
            json!({"notify": {"sms": {"gateway": {"timeout_ms": 5}}}}),
            "notify.sms.gateway.timeout_ms",
        ),
        (
            json!({"notify": {"sms": {"gateway": {"url": "ftp://x"}}}}),
            "notify.sms.gateway.url",
        ),
        (
            json!({"notify": {"sms": {"transport": "gateway", "gateway": {"profile": "acme",
                "request": {"phone_field": "to", "text_field": "text"}}}}}),
            "notify.sms.gateway.url",
        ),
    ] {
        let err = error_of(overrides);
        assert!(err.contains(setting), "{setting}: {err}");
    }
    let err = error_of(json!({"notify": {"sms": {"transport": "pigeon"}}}));
    assert!(err.contains("transport"), "{err}");
    let err = error_of(json!({"notify": {"unknown_key": 1}}));
    assert!(err.contains("unknown_key"), "{err}");
    // Credentials in clear to a local relay are fine.
    Settings::with_overrides(json!({"notify": {"email": {"transport": "smtp", "smtp": {
        "host": "127.0.0.1", "port": 2525, "security": "none", "username": "u", "password": "p"}}}}))
    .expect("local relay");
}

#[test]
fn production_gateway_needs_url_keys_and_brandname() {
    let production = |gateway: serde_json::Value| {
        json!({
            "app": {"sandbox": false},
            "couriers": {"viettelpost": {"enabled": false}, "vnpost": {"enabled": false}},
            "notify": {"sms": {"transport": "gateway", "gateway": gateway}},
        })
    };
    let err = error_of(production(json!({})));
    assert!(err.contains("notify.sms.gateway.url"), "{err}");
    let url = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/";
    let err = error_of(production(json!({"url": url})));
    assert!(err.contains("notify.sms.gateway.api_key"), "{err}");
    let err = error_of(production(json!({"url": url, "api_key": "k"})));
    assert!(err.contains("notify.sms.gateway.secret_key"), "{err}");
    let err = error_of(production(
        json!({"url": url, "api_key": "k", "secret_key": "s"}),
    ));
    assert!(err.contains("notify.sms.gateway.brandname"), "{err}");
    let s = Settings::with_overrides(production(json!({
        "url": url, "api_key": "key-value-1", "secret_key": "secret-value-2", "brandname": "BUUCHINH",
    })))
    .expect("complete");
    let toml = s.to_masked_toml();
    assert!(toml.contains("[notify.sms.gateway]"), "{toml}");
    assert!(toml.contains("api_key = \"***\""), "{toml}");
    assert!(
        !toml.contains("key-value-1") && !toml.contains("secret-value-2"),
        "{toml}"
    );
    // A custom profile that sends no secret key does not need one.
    Settings::with_overrides(production(json!({
        "url": "https://sms.example.vn/send", "profile": "acme", "api_key": "k", "brandname": "B",
        "request": {"phone_field": "to", "text_field": "text", "api_key_field": "key",
                    "brandname_field": "from", "format": "form"},
    })))
    .expect("custom without secret key");
}

#[test]
fn masked_toml_hides_the_smtp_password_and_parses() {
    let s = Settings::with_overrides(json!({"notify": {
        "urgent": ["delivery_failed"],
        "email": {"transport": "smtp", "reply_to": "Hỗ trợ <hotro@example.gov.vn>",
                  "smtp": {"host": "smtp.example.gov.vn", "username": "mailer", "password": "smtp-pw-9"}},
        "sms": {"gateway": {"request": {"extra": {"Sandbox": "1"}},
                            "response": {"duplicate_codes": ["124"]}}},
    }}))
    .expect("settings");
    let toml_text = s.to_masked_toml();
    assert!(!toml_text.contains("smtp-pw-9"), "{toml_text}");
    assert!(toml_text.contains("password = \"***\""), "{toml_text}");
    assert!(
        toml_text.contains("extra = { Sandbox = \"1\" }"),
        "{toml_text}"
    );
    let parsed: toml::Table = toml::from_str(&toml_text).expect("valid TOML");
    let notify = parsed
        .get("notify")
        .and_then(|v| v.as_table())
        .expect("notify");
    assert_eq!(
        notify
            .get("urgent")
            .and_then(|u| u.as_array())
            .map(Vec::len),
        Some(1)
    );
}
