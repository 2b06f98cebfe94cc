//! Errors as RFC 9457 problem details (`application/problem+json`).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error as aerror};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

pub use crate::domain::validation::FieldError;

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI that names the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:civicpost:problem:validation")]
    pub problem_type: String,
    #[schema(example = "Invalid request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every invalid field at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can answer with besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// A rate limit: 429 with `Retry-After` (whole seconds).
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// The cause is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("validation", "Invalid request"),
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict { .. } => ("conflict", "Conflict"),
            ApiError::Unauthorized => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let errors = match self {
            ApiError::Validation(errors) | ApiError::Conflict { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Validation(errors) => Some(format!("{} invalid field(s)", errors.len())),
            ApiError::Internal(_) => Some(
                "internal error; the x-request-id response header identifies it in the logs".into(),
            ),
            other => Some(other.to_string()),
        };
        Problem {
            problem_type: format!("urn:civicpost:problem:{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

/// A database failure is never the caller's fault: 503 when the database is down or
/// restarting (the caller retries; with an Idempotency-Key that is safe), else 500 with
/// the cause logged.
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::Unavailable(
                "the database is not answering; try again in a few seconds".into(),
            )
        } else {
            ApiError::internal(e)
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = %cause, "request failed");
        }
        let mut response = problem_response(self.status_code(), &self.to_problem());
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        if let ApiError::Unavailable(_) = self {
            // A restart or failover is over in seconds.
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("2"));
        }
        response
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type(PROBLEM_JSON);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header(("WWW-Authenticate", "Bearer"));
    }
    response.json(problem)
}

/// Malformed JSON bodies: 400 naming the line and column, 413 when too large, 415 when not JSON.
pub fn json_error(err: aerror::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        aerror::JsonPayloadError::OverflowKnownLength { limit, .. }
        | aerror::JsonPayloadError::Overflow { limit } => {
            ApiError::PayloadTooLarge { limit: *limit }
        }
        aerror::JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("send the body as Content-Type: application/json".into())
        }
        aerror::JsonPayloadError::Deserialize(e) => ApiError::Validation(vec![FieldError::new(
            "body",
            if e.is_data() {
                "invalid_value"
            } else {
                "malformed_json"
            },
            format!("{e} (line {}, column {})", e.line(), e.column()),
        )]),
        other => ApiError::BadRequest(format!("cannot read the request body: {other}")),
    };
    api.into()
}

/// Malformed query strings: 400 naming the parameter when serde says which.
pub fn query_error(err: aerror::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::Validation(vec![FieldError::new(
        "query",
        "invalid_query",
        err.to_string(),
    )])
    .into()
}

pub fn path_error(err: aerror::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {err}")).into()
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}
