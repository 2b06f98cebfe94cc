//! The state machine courier events go through (DESIGN.md "Canonical delivery states"). Pure:
//! the caller reads what it needs from the database and writes what [`decide`] says.
//!
//! - States move forward only, by [`rank`]; the allowed back-edges are
//!   `delivery_failed → out_for_delivery`, `on_hold → in_transit` and
//!   `ready_for_pickup → delivered | returning`.
//! - Terminal states freeze the delivery.
//! - Events are ordered by the courier's own event time, not by arrival (couriers retry, and
//!   the worker runs jobs side by side): one older than the latest courier event that set or
//!   confirmed the current state is kept in the history and moves nothing. At the very same
//!   time (couriers send seconds; a batch can share one) arrival order says nothing, so only
//!   a move forward applies: the outcome is then the same in any order.
//! - Only courier times are compared with courier times: our own events (intake, dispatch,
//!   an agency's cancel) carry our clock, which need not agree with the courier's.

use chrono::NaiveDateTime;

use super::state::DeliveryState;

/// Position on the way to the citizen; a move to a lower rank is a move back.
///
/// `received` and the operator state `dispatch_failed` come before any courier status, so a
/// courier event can still carry a delivery whose dispatch was thought to have failed (the
/// courier did get the order). Side states sit where they happen: `on_hold` (pickup failed,
/// address to fix) in the network before the last mile, `delivery_failed` and
/// `ready_for_pickup` after an attempt, `returning` after the delivery gave up.
pub fn rank(state: DeliveryState) -> u8 {
    use DeliveryState::*;
    match state {
        Received | DispatchFailed => 0,
        AwaitingPickup => 1,
        PickedUp => 2,
        InTransit => 3,
        OnHold => 4,
        OutForDelivery => 5,
        DeliveryFailed => 6,
        ReadyForPickup => 7,
        Returning => 8,
        Delivered | Returned | Cancelled | Lost => 9,
    }
}

/// The moves back that DESIGN.md allows: a new delivery attempt, a held parcel moving again,
/// a parcel collected at (or sent back from) the post office.
fn is_back_edge(from: DeliveryState, to: DeliveryState) -> bool {
    use DeliveryState::*;
    matches!(
        (from, to),
        (DeliveryFailed, OutForDelivery)
            | (OnHold, InTransit)
            | (ReadyForPickup, Delivered)
            | (ReadyForPickup, Returning)
    )
}

/// Whether a delivery in `from` may move to `to` (time aside).
pub fn may_move(from: DeliveryState, to: DeliveryState) -> bool {
    if from.is_terminal() || from == to {
        return false;
    }
    rank(to) > rank(from) || is_back_edge(from, to)
}

/// What the delivery looks like when an event arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub state: DeliveryState,
    /// Courier time of the latest courier event that set the current state or confirmed it
    /// (outcome `applied` or `no_change`), if any.
    pub latest_courier_event_at: Option<NaiveDateTime>,
    /// An applied event with the same status code and courier time exists already.
    pub already_applied: bool,
}

/// The event, as the courier adapter mapped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    /// `None`: not a state change (fee payouts, waybill edits) or an unknown code.
    pub state: Option<DeliveryState>,
    pub known_code: bool,
    pub occurred_at: NaiveDateTime,
}

/// Why an event changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// No mapping knows the code: kept and shown to operators.
    UnknownCode,
    /// A known code that is not a state change.
    Informational,
    /// The same status at the same courier time was applied before.
    Duplicate,
    /// The delivery is in a terminal state.
    Frozen,
    /// Older than the latest courier event that set or confirmed the state; or at the same
    /// time and not a move forward.
    OutOfOrder,
    /// The delivery is in that state already.
    NoChange,
    /// A move back that is not an allowed back-edge.
    Refused,
}

impl Skip {
    pub const ALL: [Skip; 7] = [
        Skip::UnknownCode,
        Skip::Informational,
        Skip::Duplicate,
        Skip::Frozen,
        Skip::OutOfOrder,
        Skip::NoChange,
        Skip::Refused,
    ];

    /// As stored in `delivery_events.outcome`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Skip::UnknownCode => "unknown_code",
            Skip::Informational => "informational",
            Skip::Duplicate => "duplicate",
            Skip::Frozen => "frozen",
            Skip::OutOfOrder => "out_of_order",
            Skip::NoChange => "no_change",
            Skip::Refused => "refused",
        }
    }
}

/// `delivery_events.outcome` of an applied event.
pub const APPLIED: &str = "applied";

/// Outcomes of events that set or confirmed the current state: the latest of their courier
/// times is what later events are ordered against.
pub const CONFIRMING: [&str; 2] = [APPLIED, Skip::NoChange.as_str()];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Move the delivery to this state.
    Apply(DeliveryState),
    Skip(Skip),
}

impl Verdict {
    pub fn outcome(self) -> &'static str {
        match self {
            Verdict::Apply(_) => APPLIED,
            Verdict::Skip(skip) => skip.as_str(),
        }
    }
}

/// What one courier event does to a delivery.
pub fn decide(current: &Current, incoming: &Incoming) -> Verdict {
    if !incoming.known_code {
        return Verdict::Skip(Skip::UnknownCode);
    }
    let Some(to) = incoming.state else {
        return Verdict::Skip(Skip::Informational);
    };
    if current.already_applied {
        return Verdict::Skip(Skip::Duplicate);
    }
    if current.state.is_terminal() {
        return Verdict::Skip(Skip::Frozen);
    }
    let latest = current.latest_courier_event_at;
    if latest.is_some_and(|latest| incoming.occurred_at < latest) {
        return Verdict::Skip(Skip::OutOfOrder);
    }
    if current.state == to {
        return Verdict::Skip(Skip::NoChange);
    }
    let same_time = latest == Some(incoming.occurred_at);
    if same_time && rank(to) <= rank(current.state) {
        return Verdict::Skip(Skip::OutOfOrder);
    }
    if may_move(current.state, to) {
        Verdict::Apply(to)
    } else {
        Verdict::Skip(Skip::Refused)
    }
}

/// States the citizen hears about (couriers.md §4, "notify citizen"). `picked_up` and
/// `in_transit` are silent; `cancelled` is told to the agency only. Whether `on_hold` needs
/// the citizen's action is the notification handler's call.
pub fn notifies_citizen(state: DeliveryState) -> bool {
    crate::domain::notification::MessageKind::for_state(state).is_some()
}

#[cfg(test)]
#[path = "transitions_tests.rs"]
mod tests;
