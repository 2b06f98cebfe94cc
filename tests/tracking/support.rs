//! Shared by the tracking suites: a parcel at Viettel Post, Viettel webhooks pushed through
//! the real endpoint and worker, and the pieces of the public views to look at.
#![allow(dead_code)]

use civicpost::domain::courier::Courier;
use civicpost::domain::tracking::TrackingCode;
use civicpost::store::schema::deliveries;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{TestApp, redis_url};
use crate::support::{bytes, delivery, drain, post_hook, vtp_body};

/// What the citizen has on the SMS and the appointment slip.
pub struct Parcel {
    pub id: String,
    /// `ABCD2345XY`
    pub code: String,
    /// `ABCD-2345-XY`
    pub display: String,
    pub dossier: String,
    pub courier_number: String,
}

/// A delivery to Nguyễn Văn An (0912 345 678, Số 12 ngõ 3 Đội Cấn, Phường Ba Đình), handed
/// to Viettel Post under `courier_number` and waiting for pickup.
pub async fn parcel(app: &TestApp, courier_number: &str) -> Parcel {
    let id = delivery(app, Courier::Viettelpost, Some(courier_number)).await;
    let row = app.delivery(&id);
    let display = TrackingCode::parse(&row.tracking_code)
        .expect("stored code parses")
        .display();
    Parcel {
        id,
        code: row.tracking_code,
        display,
        dossier: row.dossier_code,
        courier_number: courier_number.to_owned(),
    }
}

/// Viettel Post says `status` (with an optional REASON_CODE) at `local` Vietnam time; the
/// worker ingests it.
pub async fn vtp(app: &TestApp, parcel: &Parcel, status: i64, local: &str, reason: Option<i64>) {
    let mut body = vtp_body(&parcel.courier_number, status, local);
    body["DATA"]["REASON_CODE"] = json!(reason);
    let (code, answer) = post_hook(app, Courier::Viettelpost, &bytes(&body)).await;
    assert_eq!(code, 200, "{answer}");
    drain(app).await;
}

/// Settings that put the app on the test Redis, in a namespace of its own.
pub fn on_redis(extra: Value) -> Value {
    let namespace = format!("cpt-{}:", uuid::Uuid::now_v7().simple());
    on_redis_in(&namespace, extra)
}

pub fn on_redis_in(namespace: &str, mut extra: Value) -> Value {
    extra["redis"] = json!({"url": redis_url(), "namespace": namespace});
    extra
}

/// Sets state and reason behind the service's back (no event, no invalidation): for views of
/// states no webhook reaches, on parcels never read before.
pub async fn force_state(app: &TestApp, parcel: &Parcel, state: &str, reason: Option<&str>) {
    let (id, state, reason) = (
        parcel.id.clone(),
        state.to_owned(),
        reason.map(str::to_owned),
    );
    app.query(move |c| {
        diesel::update(deliveries::table.find(&id))
            .set((
                deliveries::state.eq(state),
                deliveries::state_reason.eq(reason),
            ))
            .execute(c)?;
        Ok(())
    })
    .await;
}

/// GET as text: status, content type, body.
pub async fn text(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, res.text().await.unwrap_or_default())
}

/// The personal data only the full view may show, in every form it was given or stored.
pub fn personal(parcel: &Parcel) -> Vec<String> {
    vec![
        "Nguyễn Văn An".into(),
        "0912345678".into(),
        "0912 345 678".into(),
        "+84912345678".into(),
        "84912345678".into(),
        "Đội Cấn".into(),
        parcel.dossier.clone(),
    ]
}

/// Asserts that `body` shows none of the personal data.
pub fn assert_masked(parcel: &Parcel, body: &str) {
    for secret in personal(parcel) {
        assert!(
            !body.contains(&secret),
            "public output shows {secret:?}:\n{body}"
        );
    }
}

/// `code` with its character at `at` replaced by another from the alphabet.
pub fn with_typo(code: &str, at: usize) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    chars[at] = if chars[at] == '2' { '3' } else { '2' };
    chars.into_iter().collect()
}
