//! A Viettel Post simulator speaking the `/v2` protocol of couriers.md §1, mountable in-process
//! (`web::scope("/sim/viettelpost").configure(sim::configure(state))`) or standalone
//! ([`serve`]). `/_control/...` endpoints drive parcels through statuses (pushing the native
//! webhook) and inject faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sim_checks::{check_place, price, validate};
use super::sim_control;
use super::sim_units;
use super::transformers::{CreateOrderRequest, LoginRequest, UPDATE_CANCEL, UpdateOrderRequest};

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub username: String,
    pub password: String,
    /// Sent as the webhook `Authorization` header and body `TOKEN`.
    pub webhook_token: String,
    pub webhook_url: Option<String>,
    pub token_ttl: Duration,
    /// Moves each new order to delivered by itself, one status per step.
    pub autopilot: Option<Duration>,
}

/// Faults for the next calls to business endpoints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next N calls answer HTTP 503.
    pub fail_next: u32,
    /// Every call waits this long before answering.
    pub delay_ms: u64,
    /// Pricing and creation answer "Price does not apply to this itinerary!".
    pub refuse_route: bool,
}

#[derive(Debug, Clone)]
struct SimOrder {
    reference: String,
    status: i64,
    money_collection: i64,
    money_total: i64,
    receiver_name: String,
    service: String,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Instant>,
    orders: HashMap<String, SimOrder>,
    by_reference: HashMap<String, String>,
    next_order: u64,
    faults: Faults,
    webhook_url: Option<String>,
    logins: u64,
    creates: u64,
}

#[derive(Clone)]
pub struct SimState {
    config: Arc<SimConfig>,
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
}

impl SimState {
    pub fn new(config: SimConfig) -> Self {
        let inner = Inner {
            webhook_url: config.webhook_url.clone(),
            // From the clock: a restart never reissues a stored number.
            next_order: crate::couriers::sandbox::clock_serial(900_000_000) + 1,
            ..Inner::default()
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            config: Arc::new(config),
            inner: Arc::new(Mutex::new(inner)),
            http,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere must not wedge the simulator for the other tests.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Every token issued so far stops working ("Token invalid").
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    pub fn set_webhook_url(&self, url: Option<String>) {
        self.lock().webhook_url = url;
    }

    /// How many tokens Login and ownerconnect issued (to check that replicas share one).
    pub fn tokens_issued(&self) -> u64 {
        self.lock().logins
    }

    /// Orders held, one per ORDER_NUMBER.
    pub fn order_count(&self) -> usize {
        self.lock().orders.len()
    }

    /// createOrder calls that reached the order book (a retried create counts again).
    pub fn create_calls(&self) -> u64 {
        self.lock().creates
    }

    /// The status the simulator holds for a tracking number.
    pub fn order_status(&self, tracking: &str) -> Option<i64> {
        self.lock().orders.get(tracking).map(|o| o.status)
    }

    /// Moves the order through `statuses`, pushing one webhook per status (up to 5 tries
    /// each until HTTP 200, as VTP does). Returns the last HTTP code per status (0: none).
    pub async fn advance(
        &self,
        tracking: &str,
        statuses: &[i64],
        reason_code: Option<i64>,
    ) -> Option<Vec<(i64, u16)>> {
        let mut outcomes = Vec::new();
        for &status in statuses {
            let (order, url) = {
                let mut inner = self.lock();
                let order = inner.orders.get_mut(tracking)?;
                order.status = status;
                let order = order.clone();
                (order, inner.webhook_url.clone())
            };
            let code = match url {
                Some(url) => self.push(&url, tracking, &order, reason_code).await,
                None => 0,
            };
            outcomes.push((status, code));
        }
        Some(outcomes)
    }

    async fn push(&self, url: &str, tracking: &str, order: &SimOrder, reason: Option<i64>) -> u16 {
        let now = chrono::Utc::now().naive_utc() + chrono::Duration::hours(7);
        let location = "HNI, BĐH, Bưu cục Ba Đình - HNI - Hà Nội";
        let body = json!({
            "DATA": {
                "ORDER_NUMBER": tracking,
                "ORDER_REFERENCE": order.reference,
                "ORDER_STATUSDATE": now.format("%d/%m/%Y %H:%M:%S").to_string(),
                "ORDER_STATUS": order.status,
                "STATUS_NAME": status_name(order.status),
                "LOCALION_CURRENTLY": location,
                "LOCATION_CURRENTLY": location,
                "NOTE": "",
                "MONEY_COLLECTION": order.money_collection,
                "MONEY_TOTAL": order.money_total,
                "ORDER_SERVICE": order.service,
                "MONEY_COLLECTION_ORIGIN": null,
                "IS_RETURNING": false,
                "POD": {"IMAGES": []},
                "REASON_CODE": reason,
                "RECEIVER_FULLNAME": order.receiver_name,
            },
            "TOKEN": self.config.webhook_token,
        });
        let mut last = 0;
        for attempt in 0..5u64 {
            let sent = self
                .http
                .post(url)
                .header("Authorization", &self.config.webhook_token)
                .json(&body)
                .send()
                .await;
            last = sent.map(|r| r.status().as_u16()).unwrap_or(0);
            if last == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
        }
        last
    }

    fn issue_token(&self) -> String {
        let token = format!("sim-vtp-{:032x}", rand::random::<u128>());
        let expiry = Instant::now() + self.config.token_ttl;
        let mut inner = self.lock();
        inner.logins += 1;
        inner.tokens.insert(token.clone(), expiry);
        token
    }

    /// The envelope to answer instead of serving the call, if the `Token` header is bad.
    fn check_token(&self, request: &HttpRequest) -> Option<HttpResponse> {
        let Some(token) = request.headers().get("Token").and_then(|v| v.to_str().ok()) else {
            return Some(fail(401, "Header Token is required"));
        };
        let valid = matches!(self.lock().tokens.get(token), Some(e) if *e > Instant::now());
        (!valid).then(|| fail(401, "Token invalid"))
    }

    /// Applies the configured delay, then answers 503 if a failure is pending.
    async fn fault(&self) -> Option<HttpResponse> {
        let delay = self.lock().faults.delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let mut inner = self.lock();
        if inner.faults.fail_next > 0 {
            inner.faults.fail_next -= 1;
            return Some(HttpResponse::ServiceUnavailable().body("Service Unavailable"));
        }
        None
    }

    fn refuses_routes(&self) -> bool {
        self.lock().faults.refuse_route
    }
}

pub(super) fn ok(message: &str, data: Value) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"status": 200, "error": false, "message": message, "data": data}))
}

/// VTP answers errors with HTTP 200 and `error: true`.
fn fail(status: i64, message: &str) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"status": status, "error": true, "message": message, "data": null}))
}

fn status_name(code: i64) -> &'static str {
    match code {
        100 => "Tiếp nhận đơn hàng từ đối tác",
        104 => "Giao cho Bưu tá đi nhận",
        105 => "Bưu tá đã nhận hàng",
        200 => "Nhận từ bưu tá - Bưu cục gốc",
        300 => "Khai thác đi",
        400 => "Khai thác đến",
        500 => "Giao bưu tá đi phát",
        501 => "Phát thành công",
        506 => "Phát thất bại",
        107 => "Đối tác yêu cầu hủy qua API",
        _ => "Cập nhật trạng thái",
    }
}

pub fn configure(state: SimState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .route("/v2/user/Login", web::post().to(login))
            .route("/v2/user/ownerconnect", web::post().to(ownerconnect))
            .route("/v2/order/getPriceAll", web::post().to(price_all))
            .route("/v2/order/createOrder", web::post().to(create_order))
            .route("/v2/order/UpdateOrder", web::post().to(update_order))
            .route(
                "/v3/categories/listProvinceNew",
                web::get().to(sim_units::provinces),
            )
            .route(
                "/v3/categories/listWardsNew",
                web::get().to(sim_units::wards),
            )
            .route(
                "/_control/faults",
                web::post().to(sim_control::control_faults),
            )
            .route(
                "/_control/expire-tokens",
                web::post().to(sim_control::control_expire),
            )
            .route(
                "/_control/webhook",
                web::post().to(sim_control::control_webhook),
            )
            .route(
                "/_control/orders/{n}/advance",
                web::post().to(sim_control::control_advance),
            );
    }
}

/// Runs the simulator alone, at the root of `addr` (e.g. `127.0.0.1:8091`).
pub async fn serve(addr: &str, state: SimState) -> std::io::Result<()> {
    actix_web::HttpServer::new(move || actix_web::App::new().configure(configure(state.clone())))
        .bind(addr)?
        .run()
        .await
}

fn credentials_ok(state: &SimState, body: &[u8]) -> bool {
    serde_json::from_slice::<LoginRequest>(body)
        .is_ok_and(|b| b.username == state.config.username && b.password == state.config.password)
}

fn token_answer(state: &SimState) -> HttpResponse {
    let token = state.issue_token();
    let expired = chrono::Utc::now().timestamp_millis()
        + i64::try_from(state.config.token_ttl.as_millis()).unwrap_or(i64::MAX / 2);
    ok(
        "OK",
        json!({"userId": 7856551, "token": token, "partner": 7856551, "phone": state.config.username,
               "postcode": null, "expired": expired, "encrypted": null, "source": 5}),
    )
}

async fn login(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    if let Some(answer) = state.fault().await {
        return answer;
    }
    if !credentials_ok(&state, &body) {
        return fail(400, "Invalid owner account or password!");
    }
    token_answer(&state)
}

async fn ownerconnect(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(answer) = state.fault().await {
        return answer;
    }
    if let Some(answer) = state.check_token(&request) {
        return answer;
    }
    if !credentials_ok(&state, &body) {
        return fail(400, "Invalid owner account or password!");
    }
    token_answer(&state)
}

async fn price_all(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(answer) = state.fault().await.or_else(|| state.check_token(&request)) {
        return answer;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, "Incorrect data: PRODUCT_WEIGHT");
    };
    let field = |name: &str| body.get(name).and_then(Value::as_i64).unwrap_or(0);
    let sender = check_place(field("SENDER_PROVINCE"), field("SENDER_WARD"), "SENDER");
    let receiver = check_place(
        field("RECEIVER_PROVINCE"),
        field("RECEIVER_WARD"),
        "RECEIVER",
    );
    if sender.is_err() || receiver.is_err() || state.refuses_routes() {
        return fail(400, "Price does not apply to this itinerary!");
    }
    let weight = field("PRODUCT_WEIGHT");
    let same = field("SENDER_PROVINCE") == field("RECEIVER_PROVINCE");
    let mut items = Vec::new();
    if same {
        items.push(json!({"MA_DV_CHINH": "PHS", "TEN_DICHVU": "Nội tỉnh tiết kiệm",
            "GIA_CUOC": price(weight, true, false), "THOI_GIAN": "24 giờ", "EXCHANGE_WEIGHT": 0,
            "EXTRA_SERVICE": [{"SERVICE_CODE": "GBP", "SERVICE_NAME": "Báo phát", "DESCRIPTION": null}]}));
    }
    items.push(json!({"MA_DV_CHINH": "VCN", "TEN_DICHVU": "Chuyển phát nhanh",
        "GIA_CUOC": price(weight, same, true), "THOI_GIAN": "48 giờ", "EXCHANGE_WEIGHT": 0, "EXTRA_SERVICE": []}));
    items.push(json!({"MA_DV_CHINH": "VTK", "TEN_DICHVU": "Tiết kiệm",
        "GIA_CUOC": price(weight, same, false), "THOI_GIAN": "96 giờ", "EXCHANGE_WEIGHT": 0, "EXTRA_SERVICE": []}));
    // getPriceAll is the one endpoint without the envelope.
    HttpResponse::Ok().json(items)
}

fn order_answer(tracking: &str, order: &SimOrder, body: &CreateOrderRequest) -> HttpResponse {
    ok(
        "OK",
        json!({"ORDER_NUMBER": tracking, "MONEY_COLLECTION": order.money_collection,
            "EXCHANGE_WEIGHT": body.product_weight, "MONEY_TOTAL": order.money_total,
            "MONEY_TOTAL_FEE": order.money_total * 10 / 11, "MONEY_FEE": 0, "MONEY_COLLECTION_FEE": 0,
            "MONEY_OTHER_FEE": 0, "MONEY_VAS": 0, "MONEY_VAT": order.money_total / 11, "KPI_HT": 48.0,
            "RECEIVER_PROVINCE": body.receiver_province, "RECEIVER_DISTRICT": body.receiver_district,
            "RECEIVER_WARD": body.receiver_ward}),
    )
}

async fn create_order(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(answer) = state.fault().await.or_else(|| state.check_token(&request)) {
        return answer;
    }
    let body: CreateOrderRequest = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return fail(400, &format!("Incorrect data: {e}")),
    };
    if let Err(message) = validate(&body) {
        return fail(400, &message);
    }
    if state.refuses_routes() {
        return fail(400, "Price does not apply to this itinerary!");
    }
    let mut inner = state.lock();
    inner.creates += 1;
    if !body.order_number.is_empty()
        && let Some(tracking) = inner.by_reference.get(&body.order_number).cloned()
        && let Some(order) = inner.orders.get(&tracking)
    {
        // A retried create returns the order already made for this ORDER_NUMBER.
        return order_answer(&tracking, order, &body);
    }
    let tracking = format!("18{:09}", inner.next_order);
    inner.next_order += 1;
    let same = body.sender_province == body.receiver_province;
    let order = SimOrder {
        reference: body.order_number.clone(),
        status: 100,
        money_collection: body.money_collection,
        money_total: price(body.product_weight, same, body.order_service != "VTK"),
        receiver_name: body.receiver_fullname.clone(),
        service: body.order_service.clone(),
    };
    let answer = order_answer(&tracking, &order, &body);
    if !body.order_number.is_empty() {
        inner
            .by_reference
            .insert(body.order_number.clone(), tracking.clone());
    }
    inner.orders.insert(tracking.clone(), order);
    drop(inner);
    if let Some(step) = state.config.autopilot {
        let sim = state.get_ref().clone();
        tokio::spawn(async move { sim_control::autopilot(sim, tracking, step).await });
    }
    answer
}

async fn update_order(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(answer) = state.fault().await.or_else(|| state.check_token(&request)) {
        return answer;
    }
    let Ok(body) = serde_json::from_slice::<UpdateOrderRequest>(&body) else {
        return fail(400, "Incorrect data: TYPE");
    };
    if body.kind != UPDATE_CANCEL {
        // Only cancelling is simulated.
        return fail(400, "Incorrect data: TYPE");
    }
    let mut inner = state.lock();
    let Some(order) = inner.orders.get_mut(&body.order_number) else {
        return fail(400, "Order does not exist");
    };
    match order.status {
        107 | 101 => fail(400, "Order status already exists on the system"),
        // Not cancellable once picked up (105) or booked at the office (≥ 200); the doc
        // gives no text for this refusal, so this one is ours.
        s if s == 105 || s >= 200 => fail(400, "Order cannot be cancelled in its current status"),
        _ => {
            order.status = 107;
            ok("Hủy đơn hàng thành công", Value::Null)
        }
    }
}
