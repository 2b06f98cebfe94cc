//! The couriers civicpost can hand a parcel to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Courier {
    /// Vietnam Post, the public postal operator (QĐ 45/2016/QĐ-TTg): the default.
    Vnpost,
    /// Viettel Post, where a province allows it.
    Viettelpost,
}

impl Courier {
    pub const ALL: [Courier; 2] = [Courier::Vnpost, Courier::Viettelpost];

    pub fn as_str(self) -> &'static str {
        match self {
            Courier::Vnpost => "vnpost",
            Courier::Viettelpost => "viettelpost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The name citizens know.
    pub fn display_name(self) -> &'static str {
        match self {
            Courier::Vnpost => "VNPost (Bưu điện Việt Nam)",
            Courier::Viettelpost => "Viettel Post",
        }
    }
}

impl std::fmt::Display for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
