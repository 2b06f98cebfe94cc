//! Public tracking for citizens: a delivery by its tracking code (masked view, cached) or by
//! its dossier code plus the phone's last 4 digits (full view, never cached), and the
//! invalidation every committed change of a delivery calls.
//!
//! HTTP lives in `http::track` (JSON) and `http::track_page` (HTML and the live stream).

pub mod cache;
pub mod labels;
pub mod limit;
pub mod view;

use std::time::Duration;

use subtle::ConstantTimeEq;

pub use view::{Detail, TrackingView};

use crate::app::AppState;
use crate::domain::phone::MobileNumber;
use crate::domain::tracking::{TrackingCode, TrackingCodeError};
use crate::store::StoreError;
use crate::store::deliveries::DeliveryRow;
use crate::store::tracking as store;

/// What a typed tracking code led to.
#[derive(Debug)]
pub enum CodeLookup {
    /// `version`: the cache version the view is at least as new as ("0": none yet).
    Found {
        view: Box<TrackingView>,
        version: String,
    },
    /// Not a code: a typo the check character caught, a wrong length, a foreign character.
    Invalid(TrackingCodeError),
    /// A well-formed code that no delivery has.
    Unknown(TrackingCode),
}

/// The version string of "no version key yet".
pub const NO_VERSION: &str = "0";

/// The masked view for a typed code (any case, dashes and spaces ignored).
pub async fn by_code(state: &AppState, raw: &str) -> Result<CodeLookup, StoreError> {
    let code = match TrackingCode::parse(raw) {
        Ok(code) => code,
        Err(e) => return Ok(CodeLookup::Invalid(e)),
    };
    let ttl = state.settings.tracking.cache_ttl();
    let (view, version) = cache::get_or_load(&state.cache, code.as_str(), ttl, || {
        load_masked(state, code.as_str().to_owned())
    })
    .await?;
    Ok(match view {
        Some(view) => CodeLookup::Found {
            view: Box::new(view),
            version: version.unwrap_or_else(|| NO_VERSION.to_owned()),
        },
        None => CodeLookup::Unknown(code),
    })
}

async fn load_masked(state: &AppState, code: String) -> Result<Option<TrackingView>, StoreError> {
    let snapshot = state
        .db
        .run(move |conn| store::by_tracking_code(conn, &code))
        .await?;
    Ok(snapshot
        .map(|s| TrackingView::build(&s, &state.units, &state.settings.tracking, Detail::Masked)))
}

/// What a dossier code and phone digits led to.
#[derive(Debug)]
pub enum DossierLookup {
    Found {
        view: Box<TrackingView>,
        version: String,
    },
    /// The same answer whichever of the two was wrong.
    NotFound,
    /// A field that cannot be right (`dossier` or `phone4`), with the message for it.
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    /// Too many tries for this dossier code: wait this long.
    Limited(Duration),
}

/// Longest dossier code accepted (TT 01/2018 codes are about 25 characters).
const MAX_DOSSIER_CHARS: usize = 64;

/// The full view, when the dossier code and the last 4 digits of the recipient's phone match.
pub async fn by_dossier(
    state: &AppState,
    dossier: &str,
    phone4: &str,
) -> Result<DossierLookup, StoreError> {
    let dossier = dossier.trim();
    if dossier.is_empty()
        || dossier.chars().count() > MAX_DOSSIER_CHARS
        || dossier.chars().any(char::is_control)
    {
        return Ok(DossierLookup::Invalid {
            field: "dossier",
            message: labels::DOSSIER_INVALID,
        });
    }
    let phone4 = phone4.trim();
    if phone4.len() != 4 || !phone4.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(DossierLookup::Invalid {
            field: "phone4",
            message: labels::PHONE4_INVALID,
        });
    }
    if let Err(wait) = limit::check_dossier(&state.cache, &state.settings.tracking, dossier).await {
        return Ok(DossierLookup::Limited(wait));
    }
    let (dossier, phone4) = (dossier.to_owned(), phone4.to_owned());
    let matched = state
        .db
        .run(move |conn| {
            let candidates = store::by_dossier_code(conn, &dossier)?;
            Ok::<_, StoreError>(
                candidates
                    .into_iter()
                    .find(|row| phone_ends_with(row, &phone4))
                    .map(|row| row.tracking_code),
            )
        })
        .await?;
    let Some(code) = matched else {
        return Ok(DossierLookup::NotFound);
    };
    // The version first, then the data (as `by_code` does), so a live page built from this
    // view hears of any event committed after the read.
    let version = version_of(state, &code).await;
    let snapshot = state
        .db
        .run(move |conn| store::by_tracking_code(conn, &code))
        .await?;
    Ok(match snapshot {
        Some(s) => DossierLookup::Found {
            view: Box::new(TrackingView::build(
                &s,
                &state.units,
                &state.settings.tracking,
                Detail::Full,
            )),
            version,
        },
        None => DossierLookup::NotFound,
    })
}

/// The cache version of a canonical code, [`NO_VERSION`] when there is none (or no cache).
pub async fn version_of(state: &AppState, code: &str) -> String {
    cache::current_version(&state.cache, code)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| NO_VERSION.to_owned())
}

/// Compared in constant time: the digits are the secret of this lookup.
fn phone_ends_with(row: &DeliveryRow, phone4: &str) -> bool {
    MobileNumber::parse(&row.recipient_phone)
        .is_ok_and(|p| bool::from(p.last4().as_bytes().ct_eq(phone4.as_bytes())))
}

/// After a committed change of these deliveries: their public views are rebuilt on the next
/// read. A failure is logged, not returned: the change itself has happened, and the cache
/// TTL bounds what a missed invalidation can cost.
pub async fn deliveries_changed(state: &AppState, delivery_ids: Vec<String>) {
    if delivery_ids.is_empty() {
        return;
    }
    match state
        .db
        .run(move |conn| store::tracking_codes(conn, &delivery_ids))
        .await
    {
        Ok(codes) => codes_changed(state, &codes).await,
        Err(e) => tracing::warn!(error = %e, "tracking views not invalidated"),
    }
}

/// As [`deliveries_changed`], for a caller that has the (canonical) tracking codes at hand.
pub async fn codes_changed(state: &AppState, codes: &[String]) {
    let ttl = state.settings.tracking.cache_ttl();
    cache::invalidate(&state.cache, codes, ttl).await;
}
