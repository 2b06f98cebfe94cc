//! Public tracking over real HTTP, on both backends: the masked view by tracking code (JSON
//! and HTML), the full view by dossier code and phone digits, typos told from unknown codes,
//! and every state family in plain Vietnamese. Cache, rate limits and the live stream are in
//! `tracking_live.rs`; the browser in `tracking_browser.rs`.

mod common;
#[path = "webhooks/support.rs"]
mod support;
#[path = "tracking/support.rs"]
mod tracking_support;

use civicpost::domain::tracking::TrackingCode;
use common::TestApp;
use tracking_support::*;

#[tokio::test]
async fn the_public_view_is_masked_and_takes_any_spelling_of_the_code() {
    let app = TestApp::spawn().await;
    let p = parcel(&app, "18000000101").await;
    let sloppy = format!(" {} ", p.display.to_lowercase().replace('-', " - "));
    for typed in [p.code.clone(), p.display.clone(), sloppy] {
        let path = format!("/v1/track/{}", typed.replace(' ', "%20"));
        let (status, view) = app.get_json(&path).await;
        assert_eq!(status, 200, "{typed}: {view}");
        assert_eq!(view["tracking_code"], p.display.as_str());
    }
    let (_, kind, body) = text(&app, &format!("/v1/track/{}", p.code)).await;
    assert!(kind.starts_with("application/json"), "{kind}");
    let view: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(view["state"], "awaiting_pickup");
    assert_eq!(view["state_label"], "Chờ bưu chính đến lấy");
    assert_eq!(view["masked"], true);
    assert_eq!(view["recipient"]["name"], "Nguyễn V. A.");
    assert_eq!(view["recipient"]["phone"], "09xx xxx 678");
    assert_eq!(view["recipient"]["ward"], "Phường Ba Đình");
    assert_eq!(view["recipient"]["province"], "Thành phố Hà Nội");
    assert!(view["recipient"]["address_line"].is_null());
    assert!(view["dossier_code"].is_null() && view["procedure_name"].is_null());
    assert_eq!(view["courier"]["code"], "viettelpost");
    assert_eq!(view["courier"]["tracking_number"], "18000000101");
    assert_eq!(
        view["courier"]["tracking_url"],
        "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?code=18000000101"
    );
    let created = view["created_at"].as_str().expect("created_at");
    assert!(created.ends_with("+07:00"), "{created}");
    assert!(view["expected_by"].as_str().is_some_and(|t| t > created));
    assert_eq!(view["events"][0]["state"], "received");
    assert_masked(&p, &body);

    let (status, kind, html) = text(&app, &format!("/track/{}", p.display.to_lowercase())).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    for shown in [
        "Chờ bưu chính đến lấy",
        "Nguyễn V. A.",
        "09xx xxx 678",
        "Phường Ba Đình",
        "Đã tiếp nhận",
        "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?code=18000000101",
        &p.display,
    ] {
        assert!(html.contains(shown), "page lacks {shown:?}");
    }
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "external asset"
    );
    assert_masked(&p, &html);

    let (_, openapi) = app.get_json("/openapi.json").await;
    for path in ["/v1/track/{code}", "/v1/track"] {
        assert!(
            openapi["paths"][path]["get"].is_object(),
            "{path} documented"
        );
    }
}

#[tokio::test]
async fn typos_are_told_from_codes_nobody_has() {
    let app = TestApp::spawn().await;
    let p = parcel(&app, "18000000102").await;
    let mut swapped: Vec<char> = p.code.chars().collect();
    let at = (0..9)
        .find(|i| swapped[*i] != swapped[i + 1])
        .expect("two differ");
    swapped.swap(at, at + 1);
    let swapped: String = swapped.into_iter().collect();
    for typo in [with_typo(&p.code, 3), swapped] {
        let (status, problem) = app.get_json(&format!("/v1/track/{typo}")).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "code");
        assert_eq!(problem["errors"][0]["code"], "typo");
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("lỗi đánh máy"), "{message}");
        let (status, _, html) = text(&app, &format!("/track/{typo}")).await;
        assert_eq!(status, 400);
        assert!(html.contains("lỗi đánh máy"), "{html}");
        assert!(
            html.contains(&format!("value=\"{typo}\"")),
            "the form keeps it"
        );
    }
    let nobody = TrackingCode::generate();
    let (status, problem) = app
        .get_json(&format!("/v1/track/{}", nobody.as_str()))
        .await;
    assert_eq!(status, 404, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("Không tìm thấy") && detail.contains(&nobody.display()));
    let (status, _, html) = text(&app, &format!("/track/{}", nobody.as_str())).await;
    assert_eq!(status, 404);
    assert!(html.contains("Không tìm thấy") && !html.contains("lỗi đánh máy"));

    let (_, short) = app.get_json("/v1/track/K7RM").await;
    assert_eq!(short["errors"][0]["code"], "invalid_length");
    let (_, bad) = app.get_json("/v1/track/0BCD2345XY").await;
    assert_eq!(bad["errors"][0]["code"], "invalid_character");

    // The form: a valid code goes on to its page; a typo comes back with the message.
    let res = app
        .get(&format!("/track?code={}", p.code.to_lowercase()))
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers().get("location").and_then(|v| v.to_str().ok());
    assert_eq!(to, Some(format!("/track/{}", p.display).as_str()));
    let (status, _, html) = text(&app, &format!("/track?code={}", with_typo(&p.code, 0))).await;
    assert_eq!(status, 400);
    assert!(html.contains("lỗi đánh máy") && html.contains("<form"));
    let (status, _, html) = text(&app, "/track").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"code\"") && html.contains("name=\"phone4\""));
}

#[tokio::test]
async fn dossier_code_and_phone_digits_show_everything_and_nothing_else_does() {
    let app = TestApp::spawn().await;
    let p = parcel(&app, "18000000103").await;
    let path = |dossier: &str, phone4: &str| {
        format!(
            "/v1/track?dossier={}&phone4={phone4}",
            dossier.replace(' ', "%20")
        )
    };
    let (status, view) = app.get_json(&path(&p.dossier, "5678")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["masked"], false);
    assert_eq!(view["recipient"]["name"], "Nguyễn Văn An");
    assert_eq!(view["recipient"]["phone"], "0912345678");
    assert_eq!(view["recipient"]["address_line"], "Số 12 ngõ 3 Đội Cấn");
    assert_eq!(view["dossier_code"], p.dossier.as_str());
    assert_eq!(view["procedure_name"], "Cấp giấy phép xây dựng");
    // Typed in lower case, with spaces around.
    let typed = format!(" {} ", p.dossier.to_lowercase());
    assert_eq!(app.get_json(&path(&typed, "5678")).await.0, 200);

    let (s1, wrong_phone) = app.get_json(&path(&p.dossier, "5679")).await;
    let (s2, wrong_dossier) = app.get_json(&path("H42-261122-0000", "5678")).await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(
        wrong_phone["detail"], wrong_dossier["detail"],
        "says nothing of which"
    );
    assert_masked(&p, &wrong_phone.to_string());
    let (status, problem) = app.get_json(&path(&p.dossier, "12a4")).await;
    assert_eq!(status, 400);
    assert_eq!(problem["errors"][0]["field"], "phone4");

    let res = app
        .get(&format!("/track?dossier={}&phone4=5678", p.dossier))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    let html = res.text().await.expect("page");
    for shown in [
        "Nguyễn Văn An",
        "0912345678",
        "Số 12 ngõ 3 Đội Cấn",
        &p.dossier,
    ] {
        assert!(html.contains(shown), "full page lacks {shown:?}");
    }
    let (status, _, html) = text(&app, &format!("/track?dossier={}&phone4=0000", p.dossier)).await;
    assert_eq!(status, 404);
    assert!(html.contains("Không tìm thấy hồ sơ"));
    assert!(!html.contains("Nguyễn Văn An") && !html.contains("0000"));
}

/// (webhook statuses with REASON_CODE, state, label, a piece of the advice or None).
type Family = (
    &'static [(i64, Option<i64>)],
    &'static str,
    &'static str,
    Option<&'static str>,
);

const BY_WEBHOOK: [Family; 6] = [
    (
        &[(105, None)],
        "picked_up",
        "Bưu chính đã nhận bưu gửi",
        None,
    ),
    (
        &[(105, None), (300, None)],
        "in_transit",
        "Đang vận chuyển",
        None,
    ),
    (
        &[(105, None), (500, None)],
        "out_for_delivery",
        "Đang giao đến bạn",
        Some("Giữ điện thoại"),
    ),
    (
        &[(105, None), (500, None), (506, Some(36))],
        "delivery_failed",
        "Giao chưa thành công",
        Some("Bưu tá sẽ giao lại"),
    ),
    (
        &[(105, None), (500, None), (507, None)],
        "ready_for_pickup",
        "Chờ bạn đến nhận tại bưu cục",
        Some("CCCD"),
    ),
    (
        &[(105, None), (500, None), (501, None)],
        "delivered",
        "Đã giao thành công",
        None,
    ),
];

#[tokio::test]
async fn every_state_family_reads_in_plain_vietnamese() {
    let app = TestApp::spawn().await;
    for (i, (steps, state, label, advice)) in BY_WEBHOOK.iter().enumerate() {
        let p = parcel(&app, &format!("1800000020{i}")).await;
        for (n, (status, reason)) in steps.iter().enumerate() {
            vtp(
                &app,
                &p,
                *status,
                &minutes_from_now(n as i64 + 1).0,
                *reason,
            )
            .await;
        }
        check_view(&app, &p, state, label, *advice).await;
    }
    let (_, view) = app
        .get_json(&format!("/v1/track/{}", parcel_code(&app, 3)))
        .await;
    assert_eq!(view["reason"], "consignee_unreachable");
    assert_eq!(view["reason_label"], "Không liên lạc được với người nhận");
    let last = view["events"].as_array().and_then(|e| e.last()).cloned();
    let last = last.expect("events");
    assert_eq!(last["location"], "HNI, GLM, Bưu cục Gia Lâm - HNI - Hà Nội");
    // In Vietnam time, as the courier said it.
    assert_eq!(last["occurred_at"], minutes_from_now(3).1.as_str());

    let forced = [
        ("on_hold", "Tạm dừng để xử lý", Some("xác minh")),
        ("returning", "Đang chuyển trả", Some("Liên hệ")),
        ("returned", "Đã trả lại cơ quan", Some("Liên hệ")),
        ("cancelled", "Đã hủy gửi qua bưu chính", Some("Liên hệ")),
        ("lost", "Thất lạc", Some("bồi thường")),
        ("dispatch_failed", "Đang sắp xếp đơn vị bưu chính", None),
    ];
    for (i, (state, label, advice)) in forced.into_iter().enumerate() {
        let p = parcel(&app, &format!("1800000030{i}")).await;
        // An operator's note is not for the public: it must not show.
        force_state(
            &app,
            &p,
            state,
            Some("viettelpost: refused (Nguyễn Văn An)"),
        )
        .await;
        check_view(&app, &p, state, label, advice).await;
    }
}

async fn check_view(app: &TestApp, p: &Parcel, state: &str, label: &str, advice: Option<&str>) {
    let (status, kind, body) = text(app, &format!("/v1/track/{}", p.code)).await;
    assert_eq!(status, 200, "{state}: {body}");
    assert!(kind.starts_with("application/json"));
    let view: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(view["state"], state);
    assert_eq!(view["state_label"], label);
    let terminal = ["delivered", "returned", "cancelled", "lost"].contains(&state);
    assert_eq!(view["terminal"], terminal, "{state}");
    match advice {
        Some(piece) => {
            let text = view["advice"].as_str().unwrap_or_default();
            assert!(text.contains(piece), "{state}: {text}");
        }
        None => assert!(view["advice"].is_null(), "{state}: {}", view["advice"]),
    }
    assert_masked(p, &body);
    let (status, _, html) = text(app, &format!("/track/{}", p.code)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("data-state=\"{state}\"")), "{state}");
    assert!(html.contains(label), "{state}: page lacks {label}");
    // A finished parcel needs no live refresh.
    assert_eq!(html.contains("data-live="), !terminal, "{state}");
    assert_eq!(
        html.contains("http-equiv=\"refresh\""),
        !terminal,
        "{state}"
    );
    assert_masked(p, &html);
}

/// A courier time shortly after the parcel was made (events before it would sort before its
/// `received`): as Viettel writes it, and as the view shows it.
fn minutes_from_now(n: i64) -> (String, String) {
    let base = *START;
    let local =
        (base + chrono::TimeDelta::minutes(n)).with_timezone(&civicpost::tracking::view::VIETNAM);
    (
        local.format("%d/%m/%Y %H:%M:%S").to_string(),
        local.format("%Y-%m-%dT%H:%M:%S+07:00").to_string(),
    )
}

static START: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> = std::sync::LazyLock::new(|| {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(0)
});

fn parcel_code(app: &TestApp, i: usize) -> String {
    use civicpost::store::schema::deliveries;
    use diesel::prelude::*;
    let number = format!("1800000020{i}");
    app.state
        .db
        .run_blocking(move |c| {
            deliveries::table
                .filter(deliveries::courier_tracking_number.eq(number))
                .select(deliveries::tracking_code)
                .first::<String>(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("code")
}
