//! What an agency sends to enqueue a result for home delivery, and the rules it must meet.
//! Validation collects every problem at once; nothing here touches the database.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use super::courier::Courier;
use super::phone::MobileNumber;
use super::validation::FieldError;
use crate::units::Units;
use crate::units::resolve::{AddressLocator, Resolved, resolve};

/// Couriers reject names and address lines longer than this many UTF-8 bytes (not characters).
pub const COURIER_TEXT_LIMIT_BYTES: usize = 150;
pub const MAX_WEIGHT_GRAMS: i32 = 30_000;
pub const DEFAULT_WEIGHT_GRAMS: i32 = 100;

/// `POST /v1/deliveries`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// Mã hồ sơ, unique per agency; TT 01/2018 form `<agency code>-YYMMDD-NNNN` recommended,
    /// any 1-64 printable characters accepted. Sending the same code again is idempotent.
    #[schema(example = "000.00.01.H42-260315-0001")]
    pub dossier_code: String,
    #[schema(example = "1.001234.000.00.00.H42")]
    pub procedure_code: Option<String>,
    #[schema(example = "Cấp giấy phép xây dựng nhà ở riêng lẻ")]
    pub procedure_name: Option<String>,
    /// Sub-office of the agency that issued the result.
    #[schema(example = "BPMC-DONGHA")]
    pub agency_office: Option<String>,
    pub recipient: Recipient,
    #[serde(default)]
    pub parcel: Parcel,
    #[serde(default)]
    pub payment: Payment,
    /// `auto` lets the routing rules decide (VNPost unless a rule says otherwise).
    #[serde(default)]
    pub courier: CourierChoice,
    #[schema(example = "Gọi trước khi giao")]
    pub notes: Option<String>,
    #[serde(default)]
    pub notify: Notify,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    #[schema(example = "Nguyễn Văn An")]
    pub name: String,
    /// Vietnamese mobile: `09…`, `+849…`, `849…`, spaces and dots allowed; pre-2018 11-digit
    /// numbers are converted. Stored as E.164.
    #[schema(example = "0912 345 678")]
    pub phone: String,
    #[schema(example = "an.nguyen@example.vn")]
    pub email: Option<String>,
    /// `line` plus one locator.
    pub address: AddressLocator,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Parcel {
    /// 1 g to 30 kg; 100 g when omitted.
    #[serde(default = "default_weight")]
    #[schema(example = 100)]
    pub weight_grams: i32,
    #[schema(example = 1)]
    pub document_count: Option<i32>,
    #[schema(example = 0)]
    pub declared_value_vnd: Option<i64>,
}

fn default_weight() -> i32 {
    DEFAULT_WEIGHT_GRAMS
}

impl Default for Parcel {
    fn default() -> Self {
        Self {
            weight_grams: DEFAULT_WEIGHT_GRAMS,
            document_count: None,
            declared_value_vnd: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaidBy {
    Agency,
    Recipient,
}

impl PaidBy {
    pub fn as_str(self) -> &'static str {
        match self {
            PaidBy::Agency => "agency",
            PaidBy::Recipient => "recipient",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "agency" => Some(PaidBy::Agency),
            "recipient" => Some(PaidBy::Recipient),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// Who pays the postage; the agency's default when omitted (`agency` for exempt citizens).
    pub postage_paid_by: Option<PaidBy>,
    /// Procedure fees and charges (phí, lệ phí) the postman collects and remits to the agency.
    #[serde(default)]
    #[schema(example = 0)]
    pub collect_on_delivery_vnd: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CourierChoice {
    #[default]
    Auto,
    Vnpost,
    Viettelpost,
}

impl CourierChoice {
    pub fn courier(self) -> Option<Courier> {
        match self {
            CourierChoice::Auto => None,
            CourierChoice::Vnpost => Some(Courier::Vnpost),
            CourierChoice::Viettelpost => Some(Courier::Viettelpost),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    #[serde(default = "yes")]
    pub sms: bool,
    /// Only used when the recipient has an email address.
    #[serde(default = "yes")]
    pub email: bool,
}

fn yes() -> bool {
    true
}

impl Default for Notify {
    fn default() -> Self {
        Self {
            sms: true,
            email: true,
        }
    }
}

/// A request that passed every rule, with text normalised and the address resolved.
#[derive(Debug, Clone)]
pub struct ValidDelivery<'a> {
    pub request: DeliveryRequest,
    pub phone: MobileNumber,
    pub address: Resolved<'a>,
}

/// NFC, trimmed; empty becomes `None`.
fn clean(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.nfc().collect::<String>().trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn nfc(s: &str) -> String {
    s.nfc().collect::<String>().trim().to_owned()
}

impl DeliveryRequest {
    /// Normalises text to NFC and trims it, so equal requests compare equal.
    pub fn normalised(mut self) -> Self {
        self.dossier_code = nfc(&self.dossier_code);
        self.procedure_code = clean(&self.procedure_code);
        self.procedure_name = clean(&self.procedure_name);
        self.agency_office = clean(&self.agency_office);
        self.notes = clean(&self.notes);
        let r = &mut self.recipient;
        r.name = nfc(&r.name);
        r.phone = r.phone.trim().to_owned();
        r.email = clean(&r.email).map(|e| e.to_lowercase());
        let a = &mut r.address;
        a.line = clean(&a.line);
        a.ward_code = clean(&a.ward_code);
        a.legacy_ward_code = clean(&a.legacy_ward_code);
        a.ward_name = clean(&a.ward_name);
        a.province_code = clean(&a.province_code);
        a.province_name = clean(&a.province_name);
        self
    }

    /// Checks every rule; returns all problems at once.
    pub fn validate(self, units: &Units) -> Result<ValidDelivery<'_>, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_text(
            &mut errors,
            "dossier_code",
            Some(&self.dossier_code),
            1,
            64,
            true,
        );
        check_text(
            &mut errors,
            "procedure_code",
            self.procedure_code.as_deref(),
            1,
            64,
            false,
        );
        check_text(
            &mut errors,
            "procedure_name",
            self.procedure_name.as_deref(),
            1,
            500,
            false,
        );
        check_text(
            &mut errors,
            "agency_office",
            self.agency_office.as_deref(),
            1,
            64,
            false,
        );
        check_text(&mut errors, "notes", self.notes.as_deref(), 1, 500, false);
        check_bytes(
            &mut errors,
            "recipient.name",
            Some(&self.recipient.name),
            true,
        );
        check_bytes(
            &mut errors,
            "recipient.address.line",
            self.recipient.address.line.as_deref(),
            true,
        );
        if self
            .recipient
            .email
            .as_deref()
            .is_some_and(|e| !plausible_email(e))
        {
            errors.push(FieldError::new(
                "recipient.email",
                "invalid_email",
                "is not an email address (name@domain.vn)",
            ));
        }
        let phone = MobileNumber::parse(&self.recipient.phone)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "recipient.phone",
                    "invalid_phone",
                    e.to_string(),
                ))
            })
            .ok();
        check_parcel(&mut errors, &self.parcel);
        let cod = self.payment.collect_on_delivery_vnd;
        if !(0..=50_000_000).contains(&cod) {
            errors.push(FieldError::new(
                "payment.collect_on_delivery_vnd",
                "out_of_range",
                "must be 0 to 50,000,000 đ",
            ));
        }
        let address = resolve(units, &self.recipient.address, "recipient.address")
            .map_err(|e| errors.extend(e))
            .ok();
        match (phone, address) {
            (Some(phone), Some(address)) if errors.is_empty() => Ok(ValidDelivery {
                request: self,
                phone,
                address,
            }),
            _ => Err(errors),
        }
    }
}

fn check_parcel(errors: &mut Vec<FieldError>, parcel: &Parcel) {
    if !(1..=MAX_WEIGHT_GRAMS).contains(&parcel.weight_grams) {
        errors.push(FieldError::new(
            "parcel.weight_grams",
            "out_of_range",
            "must be 1 g to 30,000 g (30 kg)",
        ));
    }
    if parcel
        .document_count
        .is_some_and(|n| !(1..=1000).contains(&n))
    {
        errors.push(FieldError::new(
            "parcel.document_count",
            "out_of_range",
            "must be 1 to 1,000",
        ));
    }
    if parcel
        .declared_value_vnd
        .is_some_and(|v| !(0..=100_000_000_000).contains(&v))
    {
        errors.push(FieldError::new(
            "parcel.declared_value_vnd",
            "out_of_range",
            "must be 0 to 100,000,000,000 đ",
        ));
    }
}

/// Length in characters, and no control characters (they break couriers' systems and logs).
fn check_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
    required: bool,
) {
    let Some(value) = value else {
        if required {
            errors.push(FieldError::new(field, "required", "is required"));
        }
        return;
    };
    let chars = value.chars().count();
    if chars < min {
        errors.push(FieldError::new(field, "required", "must not be empty"));
    } else if chars > max {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("has {chars} characters; at most {max}"),
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "must not contain control characters",
        ));
    }
}

/// Couriers limit names and address lines in bytes: Vietnamese letters take 2-3 bytes each.
fn check_bytes(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>, required: bool) {
    let limit = COURIER_TEXT_LIMIT_BYTES;
    match value {
        None | Some("") if required => errors.push(FieldError::new(field, "required", "is required")),
        Some(v) if v.len() > limit => errors.push(FieldError::new(field, "too_long", format!(
            "is {} bytes in UTF-8; couriers accept at most {limit} bytes (Vietnamese letters take 2-3 bytes each)", v.len()))),
        Some(v) if v.chars().any(char::is_control) => {
            errors.push(FieldError::new(field, "invalid_characters", "must not contain control characters"))
        }
        _ => {}
    }
}

fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
}
