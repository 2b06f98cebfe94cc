//! The simulator's checks of an order and its price list: what Viettel Post refuses, in its
//! words, and what it charges.

use super::sim_units;
use super::transformers::CreateOrderRequest;

/// `Ok((province, ward))` when the ids name a simulator ward in that province.
pub(super) fn check_place(province: i64, ward: i64, side: &str) -> Result<(), String> {
    match sim_units::province_of_ward(ward) {
        None => Err(format!("Invalid [{side}_WARD]")),
        Some(p) if p != province => Err(format!(
            "Invalid [{side}_WARD, {side}_DISTRICT, {side}_PROVINCE]"
        )),
        Some(_) => Ok(()),
    }
}

pub(super) fn price(weight: i64, same_province: bool, fast: bool) -> i64 {
    let base = if same_province { 22_000 } else { 30_000 };
    let per_500g = if fast { 5_000 } else { 2_500 };
    let steps = (weight.max(1) - 1) / 500;
    base + steps * per_500g + if fast { 8_000 } else { 0 }
}

pub(super) fn validate(body: &CreateOrderRequest) -> Result<(), String> {
    if !(1..=4).contains(&body.order_payment) {
        return Err("Incorrect data: ORDER_PAYMENT".to_owned());
    }
    if !["PHS", "VCN", "VTK", "VHT", "VCBO", "SCOD", "LCOD"].contains(&body.order_service.as_str())
    {
        return Err("Incorrect data: ORDER_SERVICE".to_owned());
    }
    check_place(body.sender_province, body.sender_ward, "SENDER")?;
    check_place(body.receiver_province, body.receiver_ward, "RECEIVER")?;
    for (name, value) in [
        ("SENDER_ADDRESS", &body.sender_address),
        ("RECEIVER_ADDRESS", &body.receiver_address),
        ("ORDER_NUMBER", &body.order_number),
    ] {
        if value.len() > 150 {
            return Err(format!("Invalid [{name}]"));
        }
    }
    if body.order_note.as_ref().is_some_and(|n| n.len() > 150) {
        return Err("Invalid [ORDER_NOTE]".to_owned());
    }
    Ok(())
}
