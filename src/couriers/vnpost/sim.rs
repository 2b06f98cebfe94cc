//! A MyVNPost simulator speaking the current customer-partner API (couriers.md §2A, §3).
//!
//! Mount it in-process under a prefix, or alone on its own port:
//! `App::new().service(web::scope("/sim/vnpost").configure(sim::configure(state)))` or
//! `App::new().configure(sim::configure(state))`. It signs webhooks with its own RSA key pair,
//! generated at start; give `SimState::public_key_pem()` (or `GET /_control/public-key`) to the
//! adapter as `webhook_public_key_pem`.
//!
//! Control endpoints (not part of VNPost's API):
//! - `POST /_control/advance {itemCode, statuses:[…], duplicate?, reverse?, batch?, webhookUrl?}`
//!   moves an order through statuses and POSTs signed webhooks (duplicates / out of order /
//!   several records in one body on request);
//! - `POST /_control/faults {failNext?, delayMs?, expireTokens?, refuseNext?}`;
//! - `POST /_control/webhook {url}` sets where webhooks go; `GET /_control/public-key`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// The control endpoints live beside the protocol; as a child module they reach its state.
#[path = "sim_control.rs"]
mod control;

pub use control::signed_body;

use super::signature::{current_signed_text, sign};
use super::sim_data::{cod_amount, fee, item_code, status_name};
use super::sim_units::{commune_known, lists};
use super::transformers::{amount, format_local, text};

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub username: String,
    pub password: String,
    pub customer_code: String,
    /// Where webhooks go unless a control call says otherwise.
    pub webhook_url: Option<String>,
    /// Moves each new order to delivered by itself, one status per step.
    pub autopilot: Option<Duration>,
}

pub struct SimState {
    config: SimConfig,
    key: RsaPrivateKey,
    public_pem: String,
    http: reqwest::Client,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tokens: HashSet<String>,
    orders: Vec<Order>,
    faults: Faults,
    serial: u32,
    logins: u32,
    creates: u32,
    webhook_url: Option<String>,
}

#[derive(Default, Clone, Copy)]
struct Faults {
    fail_next: u32,
    delay_ms: u64,
    refuse_next: u32,
}

struct Order {
    original_id: String,
    item_code: String,
    /// The `informationOrder` as received, echoed back in records.
    request: Value,
    total_fee: i64,
    history: Vec<(i64, NaiveDateTime)>,
}

impl Order {
    fn status(&self) -> i64 {
        self.history.last().map_or(1, |h| h.0)
    }

    fn record(&self, status: i64) -> Value {
        let mut record = self.request.clone();
        if let Some(map) = record.as_object_mut() {
            map.insert("originalID".into(), json!(self.original_id));
            map.insert("orderHdrID".into(), json!(self.original_id));
            map.insert("itemCode".into(), json!(self.item_code));
            map.insert("status".into(), json!(status));
            map.insert("totalFee".into(), json!(self.total_fee));
            map.insert("codAmount".into(), json!(cod_amount(&self.request)));
            // The record's own update time (local, like sendDate): when its latest status
            // was set. A re-sent record keeps it while sendDate moves on.
            if let Some((_, at)) = self.history.last() {
                map.insert("updatedDate".into(), json!(format_local(*at)));
            }
        }
        record
    }
}

impl SimState {
    /// A simulator with a fresh 2048-bit key pair.
    pub fn new(config: SimConfig) -> Result<Self, String> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("simulator key: {e}"))?;
        Self::with_key(config, key)
    }

    /// A simulator signing with a given key (tests reuse one to save key generation).
    pub fn with_key(config: SimConfig, key: RsaPrivateKey) -> Result<Self, String> {
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("simulator public key: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("simulator HTTP client: {e}"))?;
        let inner = Inner {
            webhook_url: config.webhook_url.clone(),
            // From the clock: a restart never reissues a stored itemCode.
            serial: u32::try_from(crate::couriers::sandbox::clock_serial(80_000_000)).unwrap_or(0),
            ..Inner::default()
        };
        Ok(Self {
            config,
            key,
            public_pem,
            http,
            inner: Mutex::new(inner),
        })
    }

    /// Successful logins so far: lets tests see whether replicas shared one token.
    pub fn login_count(&self) -> u32 {
        self.lock().logins
    }

    /// Orders held, one per saleOrderCode.
    pub fn order_count(&self) -> usize {
        self.lock().orders.len()
    }

    /// CreateOrder calls that reached the order book (a duplicate counts again).
    pub fn create_calls(&self) -> u32 {
        self.lock().creates
    }

    /// The latest status of an order, by itemCode.
    pub fn order_status(&self, item_code: &str) -> Option<i64> {
        let inner = self.lock();
        let order = inner.orders.iter().find(|o| o.item_code == item_code)?;
        order.history.last().map(|(status, _)| *status)
    }

    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere must not wedge the simulator.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn configure(state: Arc<SimState>) -> impl FnOnce(&mut web::ServiceConfig) + Clone + 'static {
    move |cfg| {
        cfg.app_data(web::Data::from(state))
            .app_data(web::JsonConfig::default().error_handler(|e, _| {
                let response = spring_error(400, &format!("JSON parse error: {e}"));
                actix_web::error::InternalError::from_response(e, response).into()
            }))
            .route("/GetAccessToken", web::post().to(get_access_token))
            .route("/ServicesCharge", web::post().to(services_charge))
            .route("/CreateOrder", web::post().to(create_order))
            .route("/getOrder", web::get().to(get_order))
            .route("/orderCancel", web::post().to(order_cancel))
            .route("/GetStatusHistoryOrder", web::get().to(status_history))
            .route("/getNewProvinceAll", web::get().to(provinces))
            .route("/getNewCommuneAll", web::get().to(communes))
            .route("/_control/advance", web::post().to(control::advance))
            .route("/_control/faults", web::post().to(control::faults))
            .route("/_control/webhook", web::post().to(control::webhook))
            .route("/_control/public-key", web::get().to(control::public_key));
    }
}

type Sim = web::Data<SimState>;

/// Spring Boot's error body, as VNPost answers errors.
fn spring_error(status: u16, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({
        "status": status,
        "timestamp": Utc::now().to_rfc3339(),
        "error": code.canonical_reason(),
        "message": message,
        "description": message,
        "path": "",
    }))
}

/// Injected slowness and failures, then the `token` header check.
async fn gate(sim: &SimState, req: &HttpRequest, needs_token: bool) -> Option<HttpResponse> {
    let faults = sim.lock().faults;
    if faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
    }
    let mut inner = sim.lock();
    if inner.faults.fail_next > 0 {
        inner.faults.fail_next -= 1;
        return Some(spring_error(503, "Service Unavailable"));
    }
    if needs_token {
        let token = req.headers().get("token").and_then(|v| v.to_str().ok());
        if !token.is_some_and(|t| inner.tokens.contains(t)) {
            return Some(spring_error(401, "Unauthorized: invalid or expired token"));
        }
    }
    None
}

/// An injected route refusal, consumed once.
fn refused(sim: &SimState) -> Option<HttpResponse> {
    let mut inner = sim.lock();
    if inner.faults.refuse_next > 0 {
        inner.faults.refuse_next -= 1;
        return Some(spring_error(400, "Tuyến phát không được hỗ trợ"));
    }
    None
}

async fn get_access_token(sim: Sim, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, false).await {
        return r;
    }
    let ok = text(&body, &["username"]).as_deref() == Some(&sim.config.username)
        && text(&body, &["password"]).as_deref() == Some(&sim.config.password)
        && text(&body, &["customerCode"]).as_deref() == Some(&sim.config.customer_code);
    if !ok {
        return HttpResponse::Ok().json(json!({
            "success": false, "token": null, "errorMessage": "Tài khoản hoặc mật khẩu không đúng"
        }));
    }
    let token = format!("simtok-{}", uuid::Uuid::now_v7().simple());
    let mut inner = sim.lock();
    inner.logins += 1;
    inner.tokens.insert(token.clone());
    HttpResponse::Ok().json(json!({"success": true, "token": token, "errorMessage": null}))
}

async fn services_charge(sim: Sim, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await.or_else(|| refused(&sim)) {
        return r;
    }
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let route_ok = ["senderCommuneCode", "receiverCommuneCode"]
        .iter()
        .all(|k| text(&data, &[k]).is_some_and(|c| commune_known(&c)));
    if !route_ok {
        return spring_error(400, "Mã xã/phường không hợp lệ");
    }
    let weight = amount(&data, &["weight"]).unwrap_or(0);
    let services = [("ETN011", "Nhanh"), ("CTN009", "Tiêu chuẩn")];
    let wanted = text(&data, &["serviceCode"]);
    let lines: Vec<Value> = services
        .iter()
        .filter(|(code, _)| wanted.as_deref().is_none_or(|w| w == *code))
        .map(|(code, name)| {
            let total = fee(code, weight);
            json!({"serviceCode": code, "serviceName": name, "mainFee": total, "vasFee": 0,
                   "totalFee": total, "priceWeight": weight, "weightConvert": weight,
                   "addonService": []})
        })
        .collect();
    HttpResponse::Ok().json(lines)
}

async fn create_order(sim: Sim, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await.or_else(|| refused(&sim)) {
        return r;
    }
    let Some(info) = body.get("informationOrder").filter(|i| i.is_object()) else {
        return spring_error(400, "informationOrder is required");
    };
    const REQUIRED: [&str; 9] = [
        "senderName",
        "senderPhone",
        "senderAddress",
        "receiverName",
        "receiverPhone",
        "receiverAddress",
        "serviceCode",
        "contentNote",
        "weight",
    ];
    if let Some(missing) = REQUIRED.iter().find(|k| text(info, &[k]).is_none()) {
        return spring_error(400, &format!("{missing} is required"));
    }
    for key in ["senderCommuneCode", "receiverCommuneCode"] {
        if !text(info, &[key]).is_some_and(|c| commune_known(&c)) {
            return spring_error(400, &format!("{key} không hợp lệ"));
        }
    }
    let sale_order_code = text(info, &["saleOrderCode"]);
    let mut inner = sim.lock();
    inner.creates += 1;
    // VNPost's duplicate check: one order per saleOrderCode.
    if let Some(code) = &sale_order_code
        && let Some(existing) = inner
            .orders
            .iter()
            .find(|o| text(&o.request, &["saleOrderCode"]).as_ref() == Some(code))
    {
        return HttpResponse::Ok().json(existing.record(existing.status()));
    }
    inner.serial += 1;
    let service = text(info, &["serviceCode"]).unwrap_or_default();
    let order = Order {
        original_id: format!("{}", 9_000_000 + inner.serial),
        item_code: item_code(10_000_000 + inner.serial),
        request: info.clone(),
        total_fee: fee(&service, amount(info, &["weight"]).unwrap_or(0)),
        history: vec![(1, Utc::now().naive_utc())],
    };
    let record = order.record(1);
    let item = order.item_code.clone();
    inner.orders.push(order);
    drop(inner);
    if let Some(step) = sim.config.autopilot {
        let sim = sim.into_inner();
        tokio::spawn(async move { control::autopilot(sim, item, step).await });
    }
    HttpResponse::Ok().json(record)
}

#[derive(Deserialize)]
struct Lookup {
    #[serde(rename = "type")]
    kind: String,
    code: String,
}

fn find<'a>(inner: &'a Inner, lookup: &Lookup) -> Option<&'a Order> {
    inner.orders.iter().find(|o| match lookup.kind.as_str() {
        "1" => o.item_code == lookup.code,
        "2" => text(&o.request, &["saleOrderCode"]).as_deref() == Some(&lookup.code),
        _ => false,
    })
}

async fn get_order(sim: Sim, req: HttpRequest, query: web::Query<Lookup>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await {
        return r;
    }
    let inner = sim.lock();
    let results: Vec<Value> = find(&inner, &query)
        .map(|o| o.record(o.status()))
        .into_iter()
        .collect();
    HttpResponse::Ok().json(json!([{"results": results}]))
}

async fn order_cancel(sim: Sim, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await {
        return r;
    }
    let Some(original_id) = text(&body, &["OriginalId"]) else {
        return spring_error(400, "OriginalId is required");
    };
    let mut inner = sim.lock();
    let Some(order) = inner
        .orders
        .iter_mut()
        .find(|o| o.original_id == original_id)
    else {
        return spring_error(400, "Không tìm thấy đơn hàng");
    };
    // Only orders not yet picked up can be cancelled (couriers.md §2A).
    let (kind, message) = if order.status() <= 5 {
        order.history.push((9, Utc::now().naive_utc()));
        ("00", "Hủy đơn hàng thành công")
    } else {
        ("01", "Đơn hàng đã được lấy, không thể hủy")
    };
    HttpResponse::Ok().json(json!([{"type": kind, "note": null, "message": message,
                                     "originalId": original_id, "caseId": null}]))
}

async fn status_history(sim: Sim, req: HttpRequest, query: web::Query<Lookup>) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await {
        return r;
    }
    let inner = sim.lock();
    let data: Vec<Value> = find(&inner, &query)
        .map(|o| {
            let steps: Vec<Value> = o
                .history
                .iter()
                .map(|(code, at)| {
                    let local = *at + chrono::TimeDelta::hours(7);
                    json!({"createdDate": local.format("%d/%m/%Y").to_string(),
                           "createHour": local.format("%H:%M:%S").to_string(),
                           "statusCode": code, "statusName": status_name(*code),
                           "locateName": "Bưu cục mô phỏng"})
                })
                .collect();
            json!({"itemCode": o.item_code, "statusHistory": steps})
        })
        .into_iter()
        .collect();
    HttpResponse::Ok().json(json!({"data": data}))
}

async fn provinces(sim: Sim, req: HttpRequest) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await {
        return r;
    }
    let list: Vec<Value> = lists()
        .provinces
        .iter()
        .map(|p| json!({"provinceCode": p.code, "provinceName": p.name}))
        .collect();
    HttpResponse::Ok().json(list)
}

async fn communes(sim: Sim, req: HttpRequest) -> HttpResponse {
    if let Some(r) = gate(&sim, &req, true).await {
        return r;
    }
    // Typed items, not `json!` values: a tree of 3,321 maps would take megabytes.
    let list: Vec<CommuneItem> = lists()
        .communes()
        .map(|(commune_code, commune_name, province_code)| CommuneItem {
            commune_code,
            commune_name,
            province_code,
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommuneItem<'a> {
    commune_code: String,
    commune_name: &'a str,
    province_code: &'a str,
}
