//! Checks agency settings from the admin API, reporting every invalid field at once, and
//! turns them into the store's change set (trimmed, phone normalised).

use crate::callbacks::{guard, signing};
use crate::domain::delivery::PaidBy;
use crate::domain::validation::FieldError;
use crate::store::agencies::AgencyChanges;
use crate::units::Units;
use crate::units::codes::is_code;

const MAX_TEXT: usize = 200;
const LEVELS: [&str; 4] = ["province", "commune", "ministry", "other"];

/// Agency settings as sent, in PATCH shape: an outer `None` leaves a field alone and
/// `Some(None)` clears it. A create sends every given field as `Some(Some(…))`. No `Debug`:
/// it holds the callback secret.
#[derive(Default)]
pub struct AgencyInput {
    pub name: Option<String>,
    pub sender_ward_code: Option<Option<String>>,
    pub sender_line: Option<Option<String>>,
    pub sender_phone: Option<Option<String>>,
    pub default_postage_paid_by: Option<String>,
    pub callback_url: Option<Option<String>>,
    pub callback_secret: Option<Option<String>>,
    pub level: Option<Option<String>>,
    pub active: Option<bool>,
}

/// Checks `input`, pushing one error per bad field, and returns the changes for the fields
/// that passed (callers write nothing when `errors` is not empty).
pub fn check(units: &Units, input: AgencyInput, errors: &mut Vec<FieldError>) -> AgencyChanges {
    let mut fail = |field: &str, code: &str, message: String| {
        errors.push(FieldError::new(field, code, message));
    };
    let name = input.name.and_then(|n| text(&n, "name", &mut fail));
    let sender_ward_code = input.sender_ward_code.map(|w| {
        w.and_then(|w| {
            let w = w.trim();
            if !is_code(w, 5) {
                fail(
                    "sender_ward_code",
                    "invalid_format",
                    format!("'{w}' is not a 5-digit ward code"),
                );
                None
            } else if units.ward(w).is_none() {
                fail(
                    "sender_ward_code",
                    "unknown_ward",
                    format!("no ward has code {w} in the 2025 scheme"),
                );
                None
            } else {
                Some(w.to_owned())
            }
        })
    });
    let sender_line = input
        .sender_line
        .map(|l| l.and_then(|l| text(&l, "sender_line", &mut fail)));
    let sender_phone = input.sender_phone.map(|p| {
        p.and_then(|p| {
            let normal = phone(&p);
            if normal.is_none() {
                fail(
                    "sender_phone",
                    "invalid_phone",
                    "not a Vietnamese phone number: 10 digits for a mobile, 11 for a landline (0 + area code), optionally +84".into(),
                );
            }
            normal
        })
    });
    let default_postage_paid_by = input.default_postage_paid_by.and_then(|p| {
        let p = p.trim();
        if let Some(payer) = PaidBy::parse(p) {
            Some(payer.as_str().to_owned())
        } else {
            fail(
                "default_postage_paid_by",
                "invalid_value",
                format!("'{p}' is not one of agency, recipient"),
            );
            None
        }
    });
    let callback_url = input.callback_url.map(|u| {
        u.and_then(|u| {
            let u = u.trim();
            match guard::parse(u) {
                Ok(_) => Some(u.to_owned()),
                Err(problem) => {
                    fail("callback_url", "invalid_url", problem.to_string());
                    None
                }
            }
        })
    });
    let callback_secret = input.callback_secret.map(|s| {
        s.and_then(|s| {
            let s = s.trim();
            match signing::check_secret(s) {
                Ok(()) => Some(s.to_owned()),
                Err(e) => {
                    // Never echo the secret back, not even in an error.
                    fail(
                        "callback_secret",
                        "invalid_secret",
                        format!(
                            "{e}: a callback secret is whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks); leave it out to have one generated"
                        ),
                    );
                    None
                }
            }
        })
    });
    let level = input.level.map(|l| {
        l.and_then(|l| {
            let l = l.trim();
            if LEVELS.contains(&l) {
                Some(l.to_owned())
            } else {
                fail(
                    "level",
                    "invalid_value",
                    format!("'{l}' is not one of {}", LEVELS.join(", ")),
                );
                None
            }
        })
    });
    AgencyChanges {
        name,
        sender_ward_code,
        sender_line,
        sender_phone,
        default_postage_paid_by,
        callback_url,
        callback_secret,
        level,
        active: input.active,
        callback_disabled_at: None,
    }
}

fn text(value: &str, field: &str, fail: &mut impl FnMut(&str, &str, String)) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        fail(
            field,
            "empty",
            "must not be blank; send null to clear an optional field".into(),
        );
        None
    } else if v.chars().count() > MAX_TEXT {
        fail(field, "too_long", format!("at most {MAX_TEXT} characters"));
        None
    } else {
        Some(v.to_owned())
    }
}

/// A Vietnamese phone number in national form (`0…`): mobiles have 10 digits, landlines 11
/// (0 + area code + subscriber). Agencies' counters are usually landlines, so this is not
/// the mobile-only check used for citizens.
fn phone(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (plus, rest) = match raw.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    let national = match digits.strip_prefix("84") {
        Some(after) if plus || digits.len() >= 11 => format!("0{}", after.trim_start_matches('0')),
        _ if plus => return None,
        _ => digits,
    };
    let ok = national.starts_with('0')
        && !national.starts_with("00")
        && (10..=11).contains(&national.len());
    ok.then_some(national)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_national_form() {
        assert_eq!(phone("028 3829 3236").as_deref(), Some("02838293236"));
        assert_eq!(phone("+84 28 3829 3236").as_deref(), Some("02838293236"));
        assert_eq!(phone("0912.345.678").as_deref(), Some("0912345678"));
        assert_eq!(phone("84912345678").as_deref(), Some("0912345678"));
        assert_eq!(phone("12345"), None);
        assert_eq!(phone("0912-abc"), None);
        assert_eq!(phone("+1 415 555 0100"), None);
    }
}
