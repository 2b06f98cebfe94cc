//! VNPost adapter for the current MyVNPost "customer-partner" API (couriers.md §2A), and its
//! simulator (`sim`).
//!
//! `base_url` includes the API prefix, e.g. `https://connect-my.vnpost.vn/customer-partner`
//! in production, or `http://127.0.0.1:8080/sim/vnpost` for the in-process simulator.

pub mod client;
pub mod signature;
pub mod sim;
mod sim_data;
mod sim_units;
pub mod transformers;
pub mod webhook;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use rsa::RsaPublicKey;
use secrecy::SecretString;
use serde_json::{Value, json};

use self::client::Client;
use self::transformers::{
    AddonService, CancelRequest, CommuneItem, ProvinceItem, amount, cancel_outcome, map_status,
    orders_from_lookup, parse_charges, parse_time, reason_for, text, unwrap_record,
};
use crate::cache::Cache;
use crate::couriers::{
    CourierAdapter, CourierError, CourierEvent, CourierUnit, CreatedOrder, OrderRequest, Party,
    Quote, QuoteRequest, WebhookError,
};
use crate::domain::courier::Courier;

/// District code VNPost expects for two-level (post-2025) addresses.
const TWO_LEVEL_DISTRICT: &str = "VNPOST";
/// Extra service carrying the amount to collect (`PROP0018`).
const COD_SERVICE: &str = "GTG021";
/// Extra service carrying the declared value (`PROP0026`).
const DECLARED_VALUE_SERVICE: &str = "GTG008";

#[derive(Debug, Clone)]
pub struct VnpostConfig {
    pub base_url: String,
    pub username: String,
    pub password: SecretString,
    /// The CMS customer code (`T000…`), sent on login, create and quote.
    pub customer_code: String,
    /// VNPost's webhook public key (SPKI or PKCS#1 PEM); the simulator's in sandbox.
    pub webhook_public_key_pem: String,
    /// Whole-request timeout for every call.
    pub timeout: Duration,
}

pub struct VnpostAdapter {
    client: Client,
    webhook_key: RsaPublicKey,
}

impl VnpostAdapter {
    pub fn new(config: VnpostConfig, cache: Option<Cache>) -> Result<Self, CourierError> {
        let webhook_key = signature::public_key_from_pem(&config.webhook_public_key_pem)
            .map_err(CourierError::Protocol)?;
        let client = Client::new(
            &config.base_url,
            config.username,
            config.password,
            config.customer_code,
            config.timeout,
            cache,
        )?;
        Ok(Self {
            client,
            webhook_key,
        })
    }

    /// Orders VNPost knows under a code: `type=1` by itemCode, `type=2` by our
    /// `saleOrderCode` (couriers.md §2A, inferred from VNP-LEMAI).
    async fn find_orders(&self, lookup_type: &str, code: &str) -> Result<Vec<Value>, CourierError> {
        let body = self
            .client
            .call(
                Method::GET,
                "getOrder",
                &[("type", lookup_type), ("code", code)],
                None,
            )
            .await?;
        Ok(orders_from_lookup(&body))
    }

    /// An order already created under our reference, so a retried dispatch never creates a
    /// second one. The by-reference lookup is an inference, so a refused or odd answer falls
    /// back on VNPost's own duplicate check of `saleOrderCode`; an outage stops the attempt.
    async fn existing_order(&self, reference: &str) -> Result<Option<Value>, CourierError> {
        match self.find_orders("2", reference).await {
            Ok(orders) => Ok(orders
                .into_iter()
                .find(|o| text(o, &["saleOrderCode"]).as_deref() == Some(reference))),
            Err(CourierError::Refused(_) | CourierError::Protocol(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn district(party: &Party) -> &str {
    party
        .courier_district_id
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(TWO_LEVEL_DISTRICT)
}

fn addons(collect_on_delivery_vnd: i64, declared_value_vnd: i64) -> Vec<AddonService> {
    let mut out = Vec::new();
    if collect_on_delivery_vnd > 0 {
        out.push(AddonService {
            code: COD_SERVICE.into(),
            prop_value: format!("PROP0018:{collect_on_delivery_vnd}"),
        });
    }
    if declared_value_vnd > 0 {
        out.push(AddonService {
            code: DECLARED_VALUE_SERVICE.into(),
            prop_value: format!("PROP0026:{declared_value_vnd}"),
        });
    }
    out
}

fn created(record: &Value) -> Result<CreatedOrder, CourierError> {
    let tracking_number = text(record, &["itemCode"])
        .filter(|c| !c.is_empty())
        .ok_or_else(|| CourierError::Protocol("CreateOrder answer without itemCode".into()))?;
    Ok(CreatedOrder {
        tracking_number,
        fee_vnd: amount(record, &["totalFee"]),
    })
}

#[async_trait]
impl CourierAdapter for VnpostAdapter {
    fn courier(&self) -> Courier {
        Courier::Vnpost
    }

    async fn authenticate(&self) -> Result<(), CourierError> {
        self.client.force_renew().await
    }

    async fn quote(&self, request: &QuoteRequest) -> Result<Vec<Quote>, CourierError> {
        let body = json!({
            "scope": 1,
            "customerCode": self.client.customer_code(),
            "data": {
                "senderProvinceCode": request.sender.courier_province_id,
                "senderDistrictCode": district(&request.sender),
                "senderCommuneCode": request.sender.courier_ward_id,
                "receiverProvinceCode": request.receiver.courier_province_id,
                "receiverDistrictCode": district(&request.receiver),
                "receiverCommuneCode": request.receiver.courier_ward_id,
                "receiverNational": "VN",
                "weight": request.weight_grams,
                "serviceCode": null,
                "addonService": addons(request.collect_on_delivery_vnd, request.declared_value_vnd),
                "additionRequest": [],
                "vehicle": "BO",
            }
        });
        let answer = self
            .client
            .call(Method::POST, "ServicesCharge", &[], Some(&body))
            .await?;
        let charges = parse_charges(&answer).map_err(CourierError::Protocol)?;
        Ok(charges
            .into_iter()
            .map(|c| Quote {
                service_code: c.service_code,
                service_name: c.service_name,
                fee_vnd: c.total_fee,
                hours: None,
            })
            .collect())
    }

    async fn create_order(&self, order: &OrderRequest) -> Result<CreatedOrder, CourierError> {
        if let Some(existing) = self.existing_order(&order.reference).await? {
            return created(&existing);
        }
        let (s, r) = (&order.sender, &order.receiver);
        let body = json!({
            "orderCreationStatus": 1,
            "type": "GUI",
            "customerCode": self.client.customer_code(),
            "informationOrder": {
                "senderName": s.name, "senderPhone": s.phone, "senderMail": s.email,
                "senderAddress": s.address_line,
                "senderProvinceCode": s.courier_province_id,
                "senderDistrictCode": district(s),
                "senderCommuneCode": s.courier_ward_id,
                "receiverName": r.name, "receiverPhone": r.phone, "receiverEmail": r.email,
                "receiverAddress": r.address_line,
                "receiverProvinceCode": r.courier_province_id,
                "receiverDistrictCode": district(r),
                "receiverCommuneCode": r.courier_ward_id,
                "serviceCode": order.service_code,
                "addonService": addons(order.collect_on_delivery_vnd, order.declared_value_vnd),
                "additionRequest": [],
                "saleOrderCode": order.reference,
                "contentNote": order.product_name,
                // VNPost takes the weight as a string of grams.
                "weight": order.weight_grams.to_string(),
                "vehicle": "BO",
                "sendType": "1",
                "isBroken": "0",
                "deliveryTime": "N",
                "deliveryRequire": "1",
                "deliveryInstruction": order.note,
            }
        });
        let answer = self
            .client
            .call(Method::POST, "CreateOrder", &[], Some(&body))
            .await?;
        created(unwrap_record(&answer))
    }

    async fn cancel_order(
        &self,
        tracking_number: &str,
        _reference: &str,
    ) -> Result<(), CourierError> {
        // orderCancel wants VNPost's originalID, which dispatch does not keep: look it up.
        let orders = self.find_orders("1", tracking_number).await?;
        let original_id = orders
            .iter()
            .filter(|o| text(o, &["itemCode"]).as_deref() == Some(tracking_number))
            .find_map(|o| text(o, &["originalID", "originalId", "OriginalId"]))
            .ok_or_else(|| CourierError::Refused("VNPost does not know this parcel".into()))?;
        let body = serde_json::to_value(CancelRequest { original_id })
            .map_err(|e| CourierError::Protocol(e.to_string()))?;
        let answer = self
            .client
            .call(Method::POST, "orderCancel", &[], Some(&body))
            .await?;
        match cancel_outcome(&answer) {
            (Some(t), _) if t == "00" => Ok(()),
            // Pending approval: VNPost confirms with status 9 or 22 by webhook.
            (Some(t), _) if t == "02" => {
                tracing::info!("vnpost: cancellation awaits VNPost's approval");
                Ok(())
            }
            (code, message) => Err(CourierError::Refused(format!(
                "cancellation refused ({}): {}",
                code.unwrap_or_default(),
                message.unwrap_or_default()
            ))),
        }
    }

    async fn tracking_history(
        &self,
        tracking_number: &str,
    ) -> Result<Vec<CourierEvent>, CourierError> {
        let answer = self
            .client
            .call(
                Method::GET,
                "GetStatusHistoryOrder",
                &[("type", "1"), ("code", tracking_number)],
                None,
            )
            .await?;
        let entries = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| CourierError::Protocol("history without data".into()))?;
        let mut events = Vec::new();
        for parcel in entries {
            let item_code = text(parcel, &["itemCode"]).unwrap_or_else(|| tracking_number.into());
            let history = parcel.get("statusHistory").and_then(Value::as_array);
            for step in history.into_iter().flatten() {
                let raw_code = text(step, &["statusCode", "status"])
                    .ok_or_else(|| CourierError::Protocol("history step without code".into()))?;
                let code: i64 = raw_code
                    .parse()
                    .map_err(|_| CourierError::Protocol(format!("status {raw_code:?}")))?;
                let when = format!(
                    "{} {}",
                    text(step, &["createdDate"]).unwrap_or_default(),
                    text(step, &["createHour", "createdHour"]).unwrap_or_default()
                );
                let occurred_at = parse_time(&when)
                    .ok_or_else(|| CourierError::Protocol(format!("history time {when:?}")))?;
                let (state, known_code) = map_status(code);
                events.push(CourierEvent {
                    tracking_number: item_code.clone(),
                    reference: None,
                    raw_code,
                    raw_text: text(step, &["statusName"]),
                    state,
                    reason: reason_for(code).map(str::to_string),
                    known_code,
                    location: text(step, &["locateName"]),
                    occurred_at,
                });
            }
        }
        Ok(events)
    }

    async fn address_units(&self) -> Result<Vec<CourierUnit>, CourierError> {
        let provinces: Vec<ProvinceItem> = self
            .client
            .call_as(Method::GET, "getNewProvinceAll", &[], None)
            .await?;
        let communes: Vec<CommuneItem> = self
            .client
            .call_as(Method::GET, "getNewCommuneAll", &[], None)
            .await?;
        let province_name = |code: &str| {
            provinces
                .iter()
                .find(|p| p.code.as_deref() == Some(code))
                .and_then(|p| p.name.clone())
        };
        Ok(communes
            .into_iter()
            .filter_map(|c| {
                let province_id = c.province_code.or(c.district_code)?;
                Some(CourierUnit {
                    province_name: province_name(&province_id).unwrap_or_default(),
                    province_id,
                    district_id: None,
                    ward_id: c.code?,
                    ward_name: c.name?,
                })
            })
            .collect())
    }

    fn verify_webhook(
        &self,
        _headers: &actix_web::http::header::HeaderMap,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        webhook::verify(&self.webhook_key, body)
    }

    fn parse_webhook(&self, body: &[u8]) -> Result<Vec<CourierEvent>, WebhookError> {
        webhook::parse(body)
    }
}
