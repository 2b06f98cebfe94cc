use super::*;
use crate::domain::state::DeliveryState as S;

fn state_of(code: i64) -> Option<S> {
    map_status(code, None).state
}

#[test]
fn every_mapped_code_of_section_4() {
    let table: &[(&[i64], S)] = &[
        (&[-100, -108, 100, 102, 103, 104], S::AwaitingPickup),
        (&[105, 200], S::PickedUp),
        (
            &[
                -109, -110, 300, 301, 302, 303, 320, 400, 401, 402, 403, 509, 510,
            ],
            S::InTransit,
        ),
        (&[500, 508, 550, 570], S::OutForDelivery),
        (&[507], S::ReadyForPickup),
        (&[505, 506], S::DeliveryFailed),
        (&[502, 515], S::Returning),
        (&[504], S::Returned),
        (&[501], S::Delivered),
        (&[101, 107, 201, 503], S::Cancelled),
    ];
    for (codes, expected) in table {
        for code in *codes {
            let mapping = map_status(*code, None);
            assert_eq!(mapping.state, Some(*expected), "code {code}");
            assert!(mapping.known_code, "code {code}");
        }
    }
}

#[test]
fn waybill_edit_is_an_event_without_state_change() {
    let mapping = map_status(202, None);
    assert_eq!(mapping.state, None);
    assert!(mapping.known_code);
}

#[test]
fn unknown_codes_change_nothing_and_are_flagged() {
    for code in [0, 99, 304, 999, -1, 511] {
        let mapping = map_status(code, None);
        assert_eq!(mapping.state, None, "code {code}");
        assert!(!mapping.known_code, "code {code}");
    }
}

#[test]
fn reason_codes_map_to_the_vocabulary() {
    let cases = [
        (506, 35, "consignee_rescheduled"),
        (506, 36, "consignee_unreachable"),
        (506, 37, "carrier_rescheduled"),
        (507, 38, "consignee_collects_at_office"),
        (505, 32, "incorrect_address"),
        (505, 27, "consignee_unreachable"),
        (505, 30, "consignee_refused"),
        (505, 31, "consignee_refused"),
        (505, 20, "consignee_refused"),
        (505, 46, "repeated_failures"),
        (505, 47, "repeated_failures"),
        (505, 43, "sender_requested_return"),
        (506, 99, "unknown"),
    ];
    for (status, reason, expected) in cases {
        assert_eq!(
            map_status(status, Some(reason)).reason,
            Some(expected),
            "{status}/{reason}"
        );
    }
    assert_eq!(
        map_status(507, None).reason,
        Some("consignee_collects_at_office")
    );
    assert_eq!(map_status(501, Some(35)).reason, None);
    assert_eq!(state_of(501), Some(S::Delivered));
}

#[test]
fn status_date_is_vietnam_time() {
    let utc = parse_status_date("10/11/2025 11:07:16").unwrap();
    assert_eq!(utc.to_string(), "2025-11-10 04:07:16");
    let early = parse_status_date("01/01/2026 03:00:00").unwrap();
    assert_eq!(early.to_string(), "2025-12-31 20:00:00");
    assert!(parse_status_date("2025-11-10 11:07:16").is_none());
}

#[test]
fn truncation_keeps_whole_characters() {
    let text = "Đường Nguyễn Trãi ".repeat(20);
    let cut = truncate_bytes(&text, 150);
    assert!(cut.len() <= 150);
    assert!(text.starts_with(&cut));
    assert!(cut.len() >= 147);
    assert_eq!(truncate_bytes("ngắn", 150), "ngắn");
}

#[test]
fn payment_kinds() {
    assert_eq!(order_payment(0, false), 1);
    assert_eq!(order_payment(50_000, false), 3);
    assert_eq!(order_payment(50_000, true), 2);
    assert_eq!(order_payment(0, true), 4);
}

#[test]
fn webhook_accepts_both_spellings_and_open_data() {
    let both = r#"{"DATA":{"ORDER_NUMBER":"1","ORDER_STATUSDATE":"10/11/2025 11:07:16",
        "ORDER_STATUS":104,"LOCALION_CURRENTLY":"old","LOCATION_CURRENTLY":"new",
        "REASON_CODE":null,"POD":{"IMAGES":[]}},"TOKEN":"t"}"#;
    let body: WebhookBody = serde_json::from_str(both).unwrap();
    assert_eq!(body.data.location(), Some("new"));
    let old = r#"{"DATA":{"ORDER_NUMBER":"1","ORDER_STATUSDATE":"10/11/2025 11:07:16",
        "ORDER_STATUS":506,"LOCALION_CURRENTLY":"old","REASON_CODE":"36"},"TOKEN":"t"}"#;
    let body: WebhookBody = serde_json::from_str(old).unwrap();
    assert_eq!(body.data.location(), Some("old"));
    assert_eq!(body.data.reason_code(), Some(36));
    let new_only = r#"{"DATA":{"ORDER_NUMBER":"1","ORDER_STATUSDATE":"10/11/2025 11:07:16",
        "ORDER_STATUS":500,"LOCATION_CURRENTLY":"new"},"TOKEN":"t"}"#;
    let body: WebhookBody = serde_json::from_str(new_only).unwrap();
    assert_eq!(body.data.location(), Some("new"));
    let blank_new = r#"{"DATA":{"ORDER_NUMBER":"1","ORDER_STATUSDATE":"10/11/2025 11:07:16",
        "ORDER_STATUS":500,"LOCATION_CURRENTLY":" ","LOCALION_CURRENTLY":"old"},"TOKEN":"t"}"#;
    let body: WebhookBody = serde_json::from_str(blank_new).unwrap();
    assert_eq!(body.data.location(), Some("old"));
}

#[test]
fn status_dates_may_drop_leading_zeros() {
    // VTP-ETOP documents the format as "dd/MM/yyyy H:m:s".
    assert_eq!(
        parse_status_date("1/2/2026 7:5:3"),
        parse_status_date("01/02/2026 07:05:03")
    );
    assert!(parse_status_date("1/2/2026 7:5:3").is_some());
}

#[test]
fn hours_from_service_time() {
    assert_eq!(parse_hours(Some("48 giờ")), Some(48));
    assert_eq!(parse_hours(Some("")), None);
    assert_eq!(parse_hours(None), None);
}
