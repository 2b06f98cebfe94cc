//! Canonical delivery states (DESIGN.md) and which moves between them are allowed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Received,
    AwaitingPickup,
    PickedUp,
    InTransit,
    OutForDelivery,
    Delivered,
    DeliveryFailed,
    ReadyForPickup,
    OnHold,
    Returning,
    Returned,
    Cancelled,
    Lost,
    DispatchFailed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 14] = [
        Self::Received,
        Self::AwaitingPickup,
        Self::PickedUp,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::DeliveryFailed,
        Self::ReadyForPickup,
        Self::OnHold,
        Self::Returning,
        Self::Returned,
        Self::Cancelled,
        Self::Lost,
        Self::DispatchFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::AwaitingPickup => "awaiting_pickup",
            Self::PickedUp => "picked_up",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::DeliveryFailed => "delivery_failed",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::OnHold => "on_hold",
            Self::Returning => "returning",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
            Self::Lost => "lost",
            Self::DispatchFailed => "dispatch_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Terminal states freeze the delivery.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Delivered | Self::Returned | Self::Cancelled | Self::Lost
        )
    }

    /// An agency may cancel until the courier has the parcel.
    pub fn can_cancel(self) -> bool {
        matches!(
            self,
            Self::Received | Self::AwaitingPickup | Self::DispatchFailed
        )
    }
}
