//! Free-text lookup for the CLI: a code, a `lat,lon` pair or a ward name.

use serde::Serialize;

use super::{LegacyResolution, LocateError, Located, NameMatchError, Province, Units, Ward};

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LookupAnswer<'a> {
    /// A 5-digit code, read in both eras: it may name a 2025 ward, an old ward, or both
    /// (different places!).
    Code {
        ward: Option<&'a Ward>,
        province: Option<&'a Province>,
        legacy: Option<LegacyResolution<'a>>,
    },
    Located(Located<'a>),
    Ward {
        ward: &'a Ward,
        province: &'a Province,
    },
    /// A bare name found in several provinces.
    Several(Vec<&'a Ward>),
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("empty query")]
    Empty,
    #[error("code {0} is neither a 2025 nor an old ward code")]
    UnknownCode(String),
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error("unknown province {0:?}")]
    UnknownProvince(String),
    #[error(transparent)]
    Name(#[from] NameMatchError),
}

impl Units {
    /// `12345` → code (both eras); `21.03,105.85` → locate; `Ba Đình, Hà Nội` or a bare
    /// ward name → by name.
    pub fn lookup(&self, query: &str) -> Result<LookupAnswer<'_>, LookupError> {
        let q = query.trim();
        if q.is_empty() {
            return Err(LookupError::Empty);
        }
        if super::codes::is_code(q, 5) {
            return self.lookup_code(q);
        }
        if let Some((lat, lon)) = parse_lat_lon(q) {
            return Ok(LookupAnswer::Located(self.locate(lat, lon)?));
        }
        if let Some((name, province)) = q.rsplit_once(',') {
            let p = self
                .find_province(province)
                .ok_or_else(|| LookupError::UnknownProvince(province.trim().to_owned()))?;
            let ward = self.find_ward_by_name(p, name)?;
            return Ok(LookupAnswer::Ward { ward, province: p });
        }
        match self.find_wards_by_name(q).as_slice() {
            [] => Err(NameMatchError::NotFound.into()),
            [one] => Ok(LookupAnswer::Ward {
                ward: one,
                province: self
                    .province(&one.province_code)
                    .ok_or(NameMatchError::NotFound)?,
            }),
            many => Ok(LookupAnswer::Several(many.to_vec())),
        }
    }

    fn lookup_code(&self, code: &str) -> Result<LookupAnswer<'_>, LookupError> {
        let ward = self.ward(code);
        let legacy = self.legacy(code);
        if ward.is_none() && legacy.is_none() {
            return Err(LookupError::UnknownCode(code.to_owned()));
        }
        let province = ward.and_then(|w| self.province(&w.province_code));
        Ok(LookupAnswer::Code {
            ward,
            province,
            legacy,
        })
    }
}

/// `lat,lon` with both parts numeric (spaces allowed).
fn parse_lat_lon(q: &str) -> Option<(f64, f64)> {
    let (a, b) = q.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}
