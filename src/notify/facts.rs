//! From what the database knows about a delivery and its event to what a message template
//! reads: local times, the citizen's words for reasons, what to do next, links.

use chrono::{Duration, NaiveDateTime};

use super::context::MessageContext;
use crate::domain::courier::Courier;
use crate::domain::state::DeliveryState;
use crate::domain::tracking::TrackingCode;
use crate::store::notifications::MessageFacts;
use crate::tracking::labels;
use crate::tracking::view::local;

/// What a message needs beyond the facts: where links point, and for how long a post office
/// holds a parcel.
#[derive(Debug, Clone)]
pub struct Links<'a> {
    pub public_base_url: &'a str,
    pub pickup_hold_days: u32,
    /// The email's unsubscribe page; `None` for SMS.
    pub unsubscribe_url: Option<String>,
}

pub fn context(facts: &MessageFacts, state: DeliveryState, links: &Links) -> MessageContext {
    let code = TrackingCode::parse(&facts.tracking_code).ok();
    let display = code
        .as_ref()
        .map_or_else(|| facts.tracking_code.clone(), TrackingCode::display);
    let canonical = code
        .as_ref()
        .map_or(facts.tracking_code.as_str(), TrackingCode::as_str);
    let base = links.public_base_url.trim_end_matches('/');
    let reason_code = facts
        .event_reason
        .as_deref()
        .or(facts.state_reason.as_deref());
    let reason = reason_code.and_then(labels::reason).map(str::to_owned);
    let place = facts
        .event_location
        .clone()
        .filter(|p| !p.trim().is_empty());
    let advice = labels::advice(
        state,
        reason_code,
        place.as_deref(),
        &display,
        &facts.agency_name,
    );
    let occurred = facts.event_occurred_at;
    let pickup_until = (state == DeliveryState::ReadyForPickup)
        .then_some(occurred)
        .flatten()
        .map(|t| date(t + Duration::days(i64::from(links.pickup_hold_days))));
    // The short names citizens know; every SMS character counts.
    let courier_name = match Courier::parse(&facts.courier) {
        Some(Courier::Vnpost) => "VNPost".to_owned(),
        Some(Courier::Viettelpost) => "Viettel Post".to_owned(),
        None => facts.courier.clone(),
    };
    MessageContext {
        recipient_name: facts.recipient_name.clone(),
        tracking_code: display,
        // The short, canonical form: every character counts in an SMS.
        tracking_url: format!("{base}/track/{canonical}"),
        dossier_code: facts.dossier_code.clone(),
        procedure_name: facts.procedure_name.clone(),
        agency_name: facts.agency_name.clone(),
        agency_office: facts.agency_office.clone(),
        courier_name,
        courier_tracking_number: facts.courier_tracking_number.clone(),
        reason,
        advice,
        place,
        pickup_until,
        occurred_at: occurred.map(time_and_date).unwrap_or_default(),
        collect_vnd: (facts.collect_on_delivery_vnd > 0)
            .then(|| vnd(facts.collect_on_delivery_vnd)),
        unsubscribe_url: links.unsubscribe_url.clone(),
    }
}

/// `dd/mm/yyyy`, Vietnam time.
fn date(t: NaiveDateTime) -> String {
    local(t).format("%d/%m/%Y").to_string()
}

/// `HH:MM dd/mm/yyyy`, Vietnam time.
fn time_and_date(t: NaiveDateTime) -> String {
    local(t).format("%H:%M %d/%m/%Y").to_string()
}

/// `35000` → `35.000 đ`: Vietnamese groups thousands with dots.
pub fn vnd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{grouped} đ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> MessageFacts {
        MessageFacts {
            tracking_code: "ABCD2345XY".into(),
            dossier_code: "000.00.01.H42-261122-0001".into(),
            procedure_name: Some("Cấp giấy phép xây dựng".into()),
            agency_name: "Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh".into(),
            agency_office: None,
            recipient_name: "Nguyễn Văn An".into(),
            courier: "vnpost".into(),
            courier_tracking_number: Some("EB123456789VN".into()),
            collect_on_delivery_vnd: 35_000,
            state_reason: None,
            event_reason: Some("consignee_not_home".into()),
            event_location: Some("Bưu cục Hạ Long".into()),
            event_occurred_at: NaiveDateTime::parse_from_str(
                "2026-11-22 16:30:00",
                "%Y-%m-%d %H:%M:%S",
            )
            .ok(),
        }
    }

    fn links() -> Links<'static> {
        Links {
            public_base_url: "https://buudien.example.vn/",
            pickup_hold_days: 7,
            unsubscribe_url: None,
        }
    }

    #[test]
    fn a_failed_attempt_reads_in_the_citizens_words_and_local_time() {
        let ctx = context(&facts(), DeliveryState::DeliveryFailed, &links());
        assert_eq!(ctx.reason.as_deref(), Some("Người nhận vắng nhà"));
        assert_eq!(ctx.occurred_at, "23:30 22/11/2026");
        assert_eq!(ctx.courier_name, "VNPost");
        assert_eq!(ctx.collect_vnd.as_deref(), Some("35.000 đ"));
        assert!(ctx.advice.is_some_and(|a| a.contains("Bưu cục Hạ Long")));
        assert_eq!(ctx.pickup_until, None);
    }

    #[test]
    fn pickup_is_held_for_the_configured_days_from_the_event() {
        let ctx = context(&facts(), DeliveryState::ReadyForPickup, &links());
        assert_eq!(ctx.pickup_until.as_deref(), Some("29/11/2026"));
        assert_eq!(ctx.place.as_deref(), Some("Bưu cục Hạ Long"));
    }

    #[test]
    fn links_use_the_short_code_and_no_double_slash() {
        let ctx = context(&facts(), DeliveryState::AwaitingPickup, &links());
        assert_eq!(
            ctx.tracking_url,
            "https://buudien.example.vn/track/ABCD2345XY"
        );
        assert_eq!(ctx.tracking_code, "ABCD-2345-XY");
    }

    #[test]
    fn amounts_group_thousands_with_dots() {
        assert_eq!(vnd(0), "0 đ");
        assert_eq!(vnd(999), "999 đ");
        assert_eq!(vnd(1_000), "1.000 đ");
        assert_eq!(vnd(1_234_567), "1.234.567 đ");
    }
}
