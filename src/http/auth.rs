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
        .map_err(ApiError::from)?
        .ok_or(ApiError::Unauthorized)
}

/// Any valid key: an active agency's or an operator's, found with one lookup. Endpoints open
/// to both (routing preview) take this; the others take the narrower extractors below.
#[derive(Debug, Clone)]
pub enum Caller {
    Agency(AgencyCaller),
    Operator(OperatorCaller),
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match owner(&req).await? {
                KeyOwner::Agency {
                    agency_id,
                    agency_active: true,
                    default_postage_paid_by,
                    ..
                } => Ok(Caller::Agency(AgencyCaller {
                    agency_id,
                    default_postage_paid_by,
                })),
                KeyOwner::Agency {
                    agency_active: false,
                    ..
                } => Err(ApiError::Forbidden(
                    "this agency is disabled; ask the operator to enable it".into(),
                )),
                KeyOwner::Operator { key_id } => Ok(Caller::Operator(OperatorCaller { key_id })),
            }
        })
    }
}

impl FromRequest for AgencyCaller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            match caller.await? {
                Caller::Agency(agency) => Ok(agency),
                Caller::Operator(_) => Err(ApiError::Forbidden(
                    "operator keys cannot act as an agency; use the agency's own key".into(),
                )),
            }
        })
    }
}

impl FromRequest for OperatorCaller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            match caller.await? {
                Caller::Operator(operator) => Ok(operator),
                Caller::Agency(_) => Err(ApiError::Forbidden("this needs an operator key".into())),
            }
        })
    }
}
