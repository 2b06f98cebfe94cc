//! From a stored delivery to what a courier is asked: the two parties with the courier's own
//! address ids, the order, and the choice among the courier's quotes. Pure: the caller
//! loads the delivery and the unit mappings.

use super::{OrderRequest, Party, Quote, QuoteRequest};
use crate::domain::courier::Courier;
use crate::store::courier_units::CourierUnitMapping;
use crate::store::dispatch::DispatchTarget;

/// Why this courier cannot be asked at all; worded for the operator.
pub type NotSendable = String;

/// The courier's address ids for both ends, found by the caller.
pub struct Mappings {
    pub sender: Option<CourierUnitMapping>,
    pub receiver: Option<CourierUnitMapping>,
}

/// National form of a stored phone: `+84912…` → `0912…`, spaces and dots dropped.
pub fn national_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("84") {
        Some(rest) if phone.trim_start().starts_with('+') => format!("0{rest}"),
        _ => digits,
    }
}

fn unmapped(courier: Courier, ward_code: &str, side: &str) -> NotSendable {
    format!(
        "{side} ward {ward_code} has no {} address id; run `civicpost couriers sync-units {}`",
        courier.as_str(),
        courier.as_str()
    )
}

fn party(
    mapping: &CourierUnitMapping,
    name: &str,
    phone: &str,
    email: Option<&str>,
    line: &str,
    province_code: String,
) -> Party {
    Party {
        name: name.to_owned(),
        phone: national_phone(phone),
        email: email.map(str::to_owned),
        address_line: line.to_owned(),
        province_code,
        ward_code: mapping.ward_code.clone(),
        courier_province_id: mapping.courier_province_id.clone(),
        courier_district_id: mapping.courier_district_id.clone(),
        courier_ward_id: mapping.courier_ward_id.clone(),
    }
}

/// Both parties of the shipment, or why the courier cannot be asked. `sender_province`:
/// the official province of the agency's ward (for messages).
pub fn parties(
    courier: Courier,
    target: &DispatchTarget,
    mappings: &Mappings,
    sender_province: String,
) -> Result<(Party, Party), NotSendable> {
    let d = &target.delivery;
    let s = &target.sender;
    let (Some(sender_ward), Some(sender_line), Some(sender_phone)) =
        (&s.ward_code, &s.line, &s.phone)
    else {
        return Err(
            "the agency has no complete return address (ward, street line and \
                    phone); set it with PATCH /v1/admin/agencies/{code}"
                .into(),
        );
    };
    let sender_mapping = mappings
        .sender
        .as_ref()
        .ok_or_else(|| unmapped(courier, sender_ward, "sender"))?;
    let receiver_mapping = mappings
        .receiver
        .as_ref()
        .ok_or_else(|| unmapped(courier, &d.ward_code, "recipient"))?;
    let sender = party(
        sender_mapping,
        &s.name,
        sender_phone,
        None,
        sender_line,
        sender_province,
    );
    let receiver = party(
        receiver_mapping,
        &d.recipient_name,
        &d.recipient_phone,
        d.recipient_email.as_deref(),
        &d.address_line,
        d.province_code.clone(),
    );
    Ok((sender, receiver))
}

pub fn quote_request(target: &DispatchTarget, sender: &Party, receiver: &Party) -> QuoteRequest {
    let d = &target.delivery;
    QuoteRequest {
        sender: sender.clone(),
        receiver: receiver.clone(),
        weight_grams: d.weight_grams,
        declared_value_vnd: d.declared_value_vnd.unwrap_or(0),
        collect_on_delivery_vnd: d.collect_on_delivery_vnd,
    }
}

pub fn order_request(
    target: &DispatchTarget,
    service_code: &str,
    sender: Party,
    receiver: Party,
) -> OrderRequest {
    let d = &target.delivery;
    OrderRequest {
        reference: d.id.clone(),
        service_code: service_code.to_owned(),
        sender,
        receiver,
        weight_grams: d.weight_grams,
        declared_value_vnd: d.declared_value_vnd.unwrap_or(0),
        collect_on_delivery_vnd: d.collect_on_delivery_vnd,
        receiver_pays_postage: d.postage_paid_by == "recipient",
        product_name: product_name(d.procedure_name.as_deref(), &d.dossier_code),
        note: d.notes.clone(),
    }
}

/// What the parcel holds, as the postman reads it: the procedure's result and the dossier.
fn product_name(procedure: Option<&str>, dossier_code: &str) -> String {
    match procedure {
        Some(name) if !name.trim().is_empty() => format!("Kết quả TTHC: {name} ({dossier_code})"),
        _ => format!("Kết quả TTHC, hồ sơ {dossier_code}"),
    }
}

/// The quote for the wanted service, or why the route does not offer it.
pub fn choose<'q>(quotes: &'q [Quote], wanted: &str) -> Result<&'q Quote, NotSendable> {
    if let Some(quote) = quotes.iter().find(|q| q.service_code == wanted) {
        return Ok(quote);
    }
    if quotes.is_empty() {
        return Err("no service is offered on this route".into());
    }
    let offered: Vec<&str> = quotes.iter().map(|q| q.service_code.as_str()).collect();
    Err(format!(
        "service {wanted} is not offered on this route (offered: {})",
        offered.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(code: &str) -> Quote {
        Quote {
            service_code: code.into(),
            service_name: code.into(),
            fee_vnd: 20_000,
            hours: None,
        }
    }

    #[test]
    fn phones_go_national() {
        assert_eq!(national_phone("+84912345678"), "0912345678");
        assert_eq!(national_phone("028 3829 3236"), "02838293236");
        assert_eq!(national_phone("0243.825.1234"), "02438251234");
    }

    #[test]
    fn the_wanted_service_or_a_reason_naming_what_is_offered() {
        let quotes = [quote("VCN"), quote("VTK")];
        assert_eq!(choose(&quotes, "VTK").map(|q| q.fee_vnd), Ok(20_000));
        let refused = choose(&quotes, "VHT").unwrap_err();
        assert!(
            refused.contains("VHT") && refused.contains("VCN, VTK"),
            "{refused}"
        );
        assert!(choose(&[], "VCN").unwrap_err().contains("no service"));
    }

    #[test]
    fn product_names_carry_the_dossier() {
        assert_eq!(
            product_name(Some("Cấp giấy phép xây dựng"), "000.00.01.H42-260315-0001"),
            "Kết quả TTHC: Cấp giấy phép xây dựng (000.00.01.H42-260315-0001)"
        );
        assert!(product_name(None, "X-1").contains("X-1"));
    }
}
