//! The messages a citizen gets, one per delivery state worth telling them about.

use crate::domain::state::DeliveryState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The courier has the order: tracking code and link.
    Created,
    OutForDelivery,
    /// A delivery attempt failed: why, and what to do.
    DeliveryFailed,
    /// Held at a post office: which, and until when.
    ReadyForPickup,
    Delivered,
    /// The courier needs the citizen (an address to complete, a pickup that failed).
    OnHold,
    /// On its way back to the one-stop shop.
    Returning,
    /// Back at the one-stop shop.
    Returned,
    Lost,
}

impl MessageKind {
    pub const ALL: [MessageKind; 9] = [
        MessageKind::Created,
        MessageKind::OutForDelivery,
        MessageKind::DeliveryFailed,
        MessageKind::ReadyForPickup,
        MessageKind::Delivered,
        MessageKind::OnHold,
        MessageKind::Returning,
        MessageKind::Returned,
        MessageKind::Lost,
    ];

    /// The message a new state earns (couriers.md §4, "notify citizen"); `None` for states the
    /// citizen is not told about: progress between offices, cancellation (the agency's
    /// business), the operator's states. Every `on_hold` status the couriers send asks
    /// something of the citizen, so it always earns a message.
    pub fn for_state(state: DeliveryState) -> Option<Self> {
        use DeliveryState::*;
        Some(match state {
            AwaitingPickup => MessageKind::Created,
            OutForDelivery => MessageKind::OutForDelivery,
            DeliveryFailed => MessageKind::DeliveryFailed,
            ReadyForPickup => MessageKind::ReadyForPickup,
            Delivered => MessageKind::Delivered,
            OnHold => MessageKind::OnHold,
            Returning => MessageKind::Returning,
            Returned => MessageKind::Returned,
            Lost => MessageKind::Lost,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Created => "created",
            MessageKind::OutForDelivery => "out_for_delivery",
            MessageKind::DeliveryFailed => "delivery_failed",
            MessageKind::ReadyForPickup => "ready_for_pickup",
            MessageKind::Delivered => "delivered",
            MessageKind::OnHold => "on_hold",
            MessageKind::Returning => "returning",
            MessageKind::Returned => "returned",
            MessageKind::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MessageKind::parse("in_transit"), None);
    }

    #[test]
    fn only_the_states_citizens_act_on_send_a_message() {
        assert_eq!(
            MessageKind::for_state(DeliveryState::AwaitingPickup),
            Some(MessageKind::Created)
        );
        for quiet in [
            DeliveryState::Received,
            DeliveryState::PickedUp,
            DeliveryState::InTransit,
            DeliveryState::Cancelled,
            DeliveryState::DispatchFailed,
        ] {
            assert_eq!(MessageKind::for_state(quiet), None, "{quiet:?}");
        }
    }
}
