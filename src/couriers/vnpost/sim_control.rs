//! The simulator's control endpoints (not part of VNPost's API): drive a parcel through
//! statuses with signed webhooks, inject faults, and hand out the public key.

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Advance {
    item_code: String,
    statuses: Vec<i64>,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    reverse: bool,
    /// All statuses in one body (signed over the first record), as VNPost may batch.
    #[serde(default)]
    batch: bool,
    webhook_url: Option<String>,
}

pub(super) async fn advance(sim: Sim, body: web::Json<Advance>) -> HttpResponse {
    let now = Utc::now().naive_utc();
    let (records, url) = {
        let mut inner = sim.lock();
        let url = body
            .webhook_url
            .clone()
            .or_else(|| inner.webhook_url.clone());
        let Some(order) = inner
            .orders
            .iter_mut()
            .find(|o| o.item_code == body.item_code)
        else {
            return spring_error(404, "unknown itemCode");
        };
        let mut records = Vec::new();
        for status in &body.statuses {
            order.history.push((*status, now));
            records.push(order.record(*status));
        }
        (records, url)
    };
    let mut records = records;
    if body.reverse {
        records.reverse();
    }
    if body.duplicate {
        records = records.into_iter().flat_map(|r| [r.clone(), r]).collect();
    }
    let Some(url) = url else {
        return HttpResponse::Ok().json(json!({"sent": 0, "answers": []}));
    };
    let bodies: Vec<Vec<Value>> = if body.batch {
        vec![records]
    } else {
        records.into_iter().map(|r| vec![r]).collect()
    };
    let mut answers = Vec::new();
    for data in bodies {
        let payload = signed_body(&sim, data, now);
        let answer = sim.http.post(&url).json(&payload).send().await;
        answers.push(answer.map_or(0, |r| r.status().as_u16()));
    }
    HttpResponse::Ok().json(json!({"sent": answers.len(), "answers": answers}))
}

/// The native webhook body, signed over the first record as VNPost documents.
pub fn signed_body(sim: &SimState, data: Vec<Value>, sent_at: NaiveDateTime) -> Value {
    let send_date = format_local(sent_at);
    let first = data.first().cloned().unwrap_or(Value::Null);
    let signed = current_signed_text(
        &send_date,
        &text(&first, &["itemCode"]).unwrap_or_default(),
        &text(&first, &["status"]).unwrap_or_default(),
    );
    json!({"data": data, "sendDate": send_date, "signature": sign(&sim.key, &signed)})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FaultRequest {
    fail_next: Option<u32>,
    delay_ms: Option<u64>,
    #[serde(default)]
    expire_tokens: bool,
    refuse_next: Option<u32>,
}

pub(super) async fn faults(sim: Sim, body: web::Json<FaultRequest>) -> HttpResponse {
    let mut inner = sim.lock();
    if let Some(n) = body.fail_next {
        inner.faults.fail_next = n;
    }
    if let Some(ms) = body.delay_ms {
        inner.faults.delay_ms = ms;
    }
    if let Some(n) = body.refuse_next {
        inner.faults.refuse_next = n;
    }
    if body.expire_tokens {
        inner.tokens.clear();
    }
    HttpResponse::NoContent().finish()
}

pub(super) async fn webhook(sim: Sim, body: web::Json<Value>) -> HttpResponse {
    sim.lock().webhook_url = text(&body, &["url"]);
    HttpResponse::NoContent().finish()
}

pub(super) async fn public_key(sim: Sim) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .body(sim.public_pem.clone())
}

/// What the autopilot pushes after creation: picked up, in transit, out for delivery,
/// delivered (couriers.md §2A).
const AUTOPILOT: [i64; 4] = [6, 10, 12, 14];

/// Moves a new order to delivered, one signed webhook every `step`, unless it is cancelled.
pub(super) async fn autopilot(sim: Arc<SimState>, item_code: String, step: Duration) {
    for status in AUTOPILOT {
        tokio::time::sleep(step).await;
        let now = Utc::now().naive_utc();
        let (record, url) = {
            let mut inner = sim.lock();
            let url = inner.webhook_url.clone();
            let Some(order) = inner.orders.iter_mut().find(|o| o.item_code == item_code) else {
                return;
            };
            if matches!(order.history.last(), Some((9 | 22, _))) {
                return;
            }
            order.history.push((status, now));
            (order.record(status), url)
        };
        if let Some(url) = url {
            let payload = signed_body(&sim, vec![record], now);
            let _ = sim.http.post(&url).json(&payload).send().await;
        }
    }
}
