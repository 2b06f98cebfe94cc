//! The one shape of a field-level validation error, shared by every input check.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// Where the problem is: a JSON path into the request (`recipient.address.ward_code`)
    /// or a query parameter name.
    #[schema(example = "recipient.address.ward_code")]
    pub field: String,
    /// A stable machine-readable code.
    #[schema(example = "unknown_ward")]
    pub code: String,
    /// What is wrong and how to fix it.
    #[schema(example = "no ward has code 99999 in the 2025 scheme")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Joins a parent path and a field name: `join("recipient.address", "line")`.
pub fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}
