//! What a citizen sees of a delivery: masked by default, in full with the dossier code and
//! the last 4 phone digits. Times are Vietnam time.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SubsecRound};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::labels;
use crate::config::TrackingSettings;
use crate::domain::courier::Courier;
use crate::domain::masking::{mask_name, mask_phone};
use crate::domain::phone::MobileNumber;
use crate::domain::state::DeliveryState;
use crate::domain::tracking::TrackingCode;
use crate::store::deliveries::EventRow;
use crate::store::tracking::Snapshot;
use crate::units::Units;

/// Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving since 1975), so a fixed offset is
/// exact. Evaluated at compile time: a wrong constant would not build.
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Vietnam time, to the second: what a citizen reads (stored times carry microseconds).
pub fn local(t: NaiveDateTime) -> DateTime<FixedOffset> {
    t.and_utc().trunc_subsecs(0).with_timezone(&VIETNAM)
}

/// How much of the recipient a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Anyone with the tracking code: `Nguyễn V. A.`, `09xx xxx 678`, ward and province.
    Masked,
    /// Dossier code plus the phone's last 4 digits: everything the citizen gave.
    Full,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackingView {
    /// For people: `ABCD-2345-XY`.
    #[schema(example = "K7RM-2XQ9-H4")]
    pub tracking_code: String,
    pub state: DeliveryState,
    /// The state in plain Vietnamese.
    #[schema(example = "Đang vận chuyển")]
    pub state_label: String,
    pub state_description: String,
    /// Reason vocabulary of the courier mapping (`consignee_not_home`, …), when known.
    pub reason: Option<String>,
    pub reason_label: Option<String>,
    /// What to do now (failed attempt, held at the post office, returned …).
    pub advice: Option<String>,
    /// Delivered, returned, cancelled or lost: nothing will change any more.
    pub terminal: bool,
    /// True for the public view (tracking code only).
    pub masked: bool,
    /// The sending agency.
    #[schema(example = "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị")]
    pub agency: String,
    pub recipient: RecipientInfo,
    /// Present once a courier has the order.
    pub courier: Option<CourierInfo>,
    /// Fees to pay the postman on delivery, in đồng (0: nothing to pay).
    pub collect_on_delivery_vnd: i64,
    /// Created + the routed service's promised hours, Vietnam time.
    pub expected_by: DateTime<FixedOffset>,
    pub created_at: DateTime<FixedOffset>,
    /// The state changes, oldest first.
    pub events: Vec<TimelineEvent>,
    /// Only in the full view.
    pub dossier_code: Option<String>,
    pub procedure_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecipientInfo {
    /// Masked: family name and initials.
    #[schema(example = "Nguyễn V. A.")]
    pub name: String,
    /// Masked: `09xx xxx 678`; full: `0912345678`.
    #[schema(example = "09xx xxx 678")]
    pub phone: String,
    /// Only in the full view.
    pub address_line: Option<String>,
    #[schema(example = "Phường Ba Đình")]
    pub ward: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub province: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CourierInfo {
    pub code: Courier,
    #[schema(example = "Viettel Post")]
    pub name: String,
    /// The courier's own tracking number.
    pub tracking_number: String,
    /// The courier's public tracking page for it.
    pub tracking_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEvent {
    pub state: DeliveryState,
    pub label: String,
    pub reason_label: Option<String>,
    /// Where, as the courier names it (a post office or sorting centre).
    pub location: Option<String>,
    /// Vietnam time.
    pub occurred_at: DateTime<FixedOffset>,
}

impl TrackingView {
    pub fn build(snap: &Snapshot, units: &Units, links: &TrackingSettings, detail: Detail) -> Self {
        let d = &snap.delivery;
        let state = DeliveryState::parse(&d.state).unwrap_or(DeliveryState::Received);
        let code = TrackingCode::parse(&d.tracking_code)
            .map(|c| c.display())
            .unwrap_or_else(|_| d.tracking_code.clone());
        let reason = d
            .state_reason
            .as_deref()
            .filter(|r| labels::reason(r).is_some());
        let place = snap.events.iter().rev().find_map(|e| e.location.as_deref());
        let (label, description) = labels::state(state);
        let full = detail == Detail::Full;
        Self {
            state,
            state_label: label.to_owned(),
            state_description: description.to_owned(),
            reason: reason.map(str::to_owned),
            reason_label: reason.and_then(labels::reason).map(str::to_owned),
            advice: labels::advice(state, reason, place, &code, &snap.agency_name),
            terminal: state.is_terminal(),
            masked: !full,
            agency: snap.agency_name.clone(),
            recipient: recipient(snap, units, detail),
            courier: courier(snap, links),
            collect_on_delivery_vnd: d.collect_on_delivery_vnd,
            expected_by: local(crate::intake::expected_by(d)),
            created_at: local(d.created_at),
            events: snap.events.iter().map(timeline_event).collect(),
            dossier_code: full.then(|| d.dossier_code.clone()),
            procedure_name: if full { d.procedure_name.clone() } else { None },
            tracking_code: code,
        }
    }

    /// The latest place the parcel was seen, for pages that name it.
    pub fn last_location(&self) -> Option<&str> {
        self.events.iter().rev().find_map(|e| e.location.as_deref())
    }
}

fn recipient(snap: &Snapshot, units: &Units, detail: Detail) -> RecipientInfo {
    let d = &snap.delivery;
    let ward = units
        .ward(&d.ward_code)
        .map_or_else(String::new, |w| w.name.clone());
    let province = units
        .province(&d.province_code)
        .map_or_else(String::new, |p| p.name.clone());
    match detail {
        Detail::Masked => RecipientInfo {
            name: mask_name(&d.recipient_name),
            phone: mask_phone(&d.recipient_phone),
            address_line: None,
            ward,
            province,
        },
        Detail::Full => RecipientInfo {
            name: d.recipient_name.clone(),
            phone: MobileNumber::parse(&d.recipient_phone)
                .map(|p| p.national())
                .unwrap_or_default(),
            address_line: Some(d.address_line.clone()),
            ward,
            province,
        },
    }
}

fn courier(snap: &Snapshot, links: &TrackingSettings) -> Option<CourierInfo> {
    let d = &snap.delivery;
    let number = d.courier_tracking_number.as_deref()?;
    let courier = Courier::parse(&d.courier)?;
    let template = match courier {
        Courier::Viettelpost => &links.viettelpost_url,
        Courier::Vnpost => &links.vnpost_url,
    };
    Some(CourierInfo {
        code: courier,
        name: courier.display_name().to_owned(),
        tracking_number: number.to_owned(),
        tracking_url: template.replace("{code}", &url_component(number)),
    })
}

/// Courier numbers are letters and digits; anything else is percent-encoded all the same.
fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn timeline_event(e: &EventRow) -> TimelineEvent {
    let state = DeliveryState::parse(&e.state).unwrap_or(DeliveryState::Received);
    TimelineEvent {
        state,
        label: labels::state(state).0.to_owned(),
        reason_label: e
            .reason
            .as_deref()
            .and_then(labels::reason)
            .map(str::to_owned),
        location: e.location.clone(),
        occurred_at: local(e.occurred_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_time_is_utc_plus_seven() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .and_then(|d| d.and_hms_opt(3, 30, 0))
            .expect("time");
        assert_eq!(local(t).to_rfc3339(), "2026-11-22T10:30:00+07:00");
    }

    #[test]
    fn courier_numbers_are_encoded_in_links() {
        assert_eq!(url_component("VN123 4/5"), "VN123%204%2F5");
    }
}
