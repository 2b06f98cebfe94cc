//! Who is calling: `Authorization: Bearer <key>`, checked against the stored hash.
//! Agency endpoints take [`AgencyCaller`]; operator endpoints take [`OperatorCaller`].

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::problem::ApiError;
use crate::app::AppState;
use crate::store::agencies::{self, KeyOwner};

/// An active agency, authenticated by one of its keys.
#[derive(Debug, Clone)]
pub struct AgencyCaller {
    pub agency_id: String,
    /// `agency` or `recipient`: who pays postage when a request does not say.
    pub default_postage_paid_by: String,
}

/// An operator, authenticated by an operator key.
#[derive(Debug, Clone)]
pub struct OperatorCaller {
    pub key_id: String,
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized)?;
    let value = header.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, key) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(key.trim().to_owned())
}

async fn owner(req: &HttpRequest) -> Result<KeyOwner, ApiError> {
    let key = bearer(req)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?
        .clone();
    state
        .db
        .run(move |conn| agencies::authenticate(conn, &key))
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::Unauthorized)
}

impl FromRequest for AgencyCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match owner(&req).await? {
                KeyOwner::Agency {
                    agency_id,
                    agency_active: true,
                    default_postage_paid_by,
                    ..
                } => Ok(AgencyCaller {
                    agency_id,
                    default_postage_paid_by,
                }),
                KeyOwner::Agency {
                    agency_active: false,
                    ..
                } => Err(ApiError::Forbidden(
                    "this agency is disabled; ask the operator to enable it".into(),
                )),
                KeyOwner::Operator { .. } => Err(ApiError::Forbidden(
                    "operator keys cannot act as an agency; use the agency's own key".into(),
                )),
            }
        })
    }
}

impl FromRequest for OperatorCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match owner(&req).await? {
                KeyOwner::Operator { key_id } => Ok(OperatorCaller { key_id }),
                KeyOwner::Agency { .. } => {
                    Err(ApiError::Forbidden("this needs an operator key".into()))
                }
            }
        })
    }
}
