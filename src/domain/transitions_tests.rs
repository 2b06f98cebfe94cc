use chrono::{NaiveDate, NaiveDateTime};

use super::*;
use DeliveryState::*;

fn at(minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 22)
        .and_then(|d| d.and_hms_opt(8, minute, 0))
        .expect("valid time")
}

fn event(state: DeliveryState, minute: u32) -> Incoming {
    Incoming {
        state: Some(state),
        known_code: true,
        occurred_at: at(minute),
    }
}

/// Feeds events through `decide` as the store would (the latest applied time, duplicates by
/// state and time) and returns the final state and each verdict.
fn run(start: DeliveryState, events: &[Incoming]) -> (DeliveryState, Vec<Verdict>) {
    let mut state = start;
    let mut latest = None;
    let mut applied: Vec<(Option<DeliveryState>, NaiveDateTime)> = Vec::new();
    let mut verdicts = Vec::new();
    for e in events {
        let current = Current {
            state,
            latest_courier_event_at: latest,
            already_applied: applied.contains(&(e.state, e.occurred_at)),
        };
        let verdict = decide(&current, e);
        if let Verdict::Apply(to) = verdict {
            state = to;
            applied.push((e.state, e.occurred_at));
        }
        if CONFIRMING.contains(&verdict.outcome()) {
            latest = latest.max(Some(e.occurred_at));
        }
        verdicts.push(verdict);
    }
    (state, verdicts)
}

#[test]
fn the_happy_path_reaches_delivered() {
    let path = [
        event(PickedUp, 1),
        event(InTransit, 2),
        event(OutForDelivery, 3),
        event(Delivered, 4),
    ];
    let (end, verdicts) = run(AwaitingPickup, &path);
    assert_eq!(end, Delivered);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Apply(_))));
}

#[test]
fn terminal_states_freeze_whatever_comes_later() {
    for terminal in [Delivered, Returned, Cancelled, Lost] {
        for to in DeliveryState::ALL {
            assert!(!may_move(terminal, to), "{terminal:?} → {to:?}");
            let verdict = decide(
                &Current {
                    state: terminal,
                    latest_courier_event_at: None,
                    already_applied: false,
                },
                &event(to, 9),
            );
            assert_eq!(
                verdict,
                Verdict::Skip(Skip::Frozen),
                "{terminal:?} → {to:?}"
            );
        }
    }
}

#[test]
fn only_the_listed_back_edges_are_allowed() {
    let allowed = [
        (DeliveryFailed, OutForDelivery),
        (OnHold, InTransit),
        (ReadyForPickup, Delivered),
        (ReadyForPickup, Returning),
    ];
    for from in DeliveryState::ALL {
        for to in DeliveryState::ALL {
            let back = rank(to) < rank(from);
            if back && !from.is_terminal() {
                assert_eq!(
                    may_move(from, to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }
    let (end, _) = run(
        OutForDelivery,
        &[event(DeliveryFailed, 1), event(OutForDelivery, 2)],
    );
    assert_eq!(end, OutForDelivery, "a new attempt after a failed one");
    let (end, v) = run(OutForDelivery, &[event(InTransit, 1)]);
    assert_eq!((end, v[0]), (OutForDelivery, Verdict::Skip(Skip::Refused)));
    let (end, v) = run(Returning, &[event(OutForDelivery, 1)]);
    assert_eq!((end, v[0]), (Returning, Verdict::Skip(Skip::Refused)));
}

#[test]
fn forward_moves_may_skip_states_and_every_state_reaches_a_terminal() {
    assert!(may_move(AwaitingPickup, Delivered));
    assert!(may_move(Received, PickedUp));
    assert!(may_move(DispatchFailed, InTransit));
    for from in DeliveryState::ALL.into_iter().filter(|s| !s.is_terminal()) {
        for to in [Delivered, Returned, Cancelled, Lost] {
            assert!(may_move(from, to), "{from:?} → {to:?}");
        }
    }
}

#[test]
fn a_late_older_event_is_kept_but_moves_nothing() {
    // Out for delivery at :03, failed at :05; the :03 event arrives again late, after the
    // failure: by the courier's clock it is older, so it is no new attempt.
    let (end, v) = run(
        InTransit,
        &[
            event(OutForDelivery, 3),
            event(DeliveryFailed, 5),
            event(OutForDelivery, 4),
        ],
    );
    assert_eq!(end, DeliveryFailed);
    assert_eq!(v[2], Verdict::Skip(Skip::OutOfOrder));
    // Reordered arrival of the happy path: the latest event wins, older ones are history.
    let (end, v) = run(
        AwaitingPickup,
        &[event(InTransit, 2), event(PickedUp, 1), event(Delivered, 4)],
    );
    assert_eq!(end, Delivered);
    assert_eq!(v[1], Verdict::Skip(Skip::OutOfOrder));
}

#[test]
fn the_same_event_twice_applies_once() {
    let (end, v) = run(
        InTransit,
        &[event(OutForDelivery, 3), event(OutForDelivery, 3)],
    );
    assert_eq!(end, OutForDelivery);
    assert_eq!(v[1], Verdict::Skip(Skip::Duplicate));
    // The same status at another time, with nothing between: no change.
    let (_, v) = run(InTransit, &[event(InTransit, 3)]);
    assert_eq!(v[0], Verdict::Skip(Skip::NoChange));
}

#[test]
fn unknown_and_informational_codes_change_nothing() {
    let current = Current {
        state: InTransit,
        latest_courier_event_at: Some(at(1)),
        already_applied: false,
    };
    let unknown = Incoming {
        state: None,
        known_code: false,
        occurred_at: at(2),
    };
    assert_eq!(decide(&current, &unknown), Verdict::Skip(Skip::UnknownCode));
    let payout = Incoming {
        known_code: true,
        ..unknown
    };
    assert_eq!(
        decide(&current, &payout),
        Verdict::Skip(Skip::Informational)
    );
}

#[test]
fn events_at_the_same_second_only_move_forward() {
    let (end, v) = run(
        AwaitingPickup,
        &[event(PickedUp, 1), event(InTransit, 1), event(PickedUp, 1)],
    );
    assert_eq!(end, InTransit);
    assert_eq!(v[2], Verdict::Skip(Skip::Duplicate));
    // A failure and a new attempt stamped with the same second: which came first is
    // unknown, so the back-edge does not apply, in either arrival order.
    for events in [
        [event(OutForDelivery, 1), event(DeliveryFailed, 1)],
        [event(DeliveryFailed, 1), event(OutForDelivery, 1)],
    ] {
        assert_eq!(run(InTransit, &events).0, DeliveryFailed);
    }
    let (end, v) = run(
        OutForDelivery,
        &[event(DeliveryFailed, 1), event(OutForDelivery, 2)],
    );
    assert_eq!(
        (end, v[1]),
        (OutForDelivery, Verdict::Apply(OutForDelivery))
    );
}

/// Every order of arrival of a consistent courier timeline ends in its last state.
#[test]
fn arrival_order_does_not_change_where_a_timeline_ends() {
    let timelines: [&[Incoming]; 4] = [
        &[
            event(PickedUp, 1),
            event(InTransit, 2),
            event(OutForDelivery, 3),
            event(DeliveryFailed, 4),
            event(OutForDelivery, 5),
        ],
        &[
            event(InTransit, 1),
            event(OnHold, 2),
            event(InTransit, 3),
            event(OutForDelivery, 4),
            event(ReadyForPickup, 5),
        ],
        &[
            event(OutForDelivery, 1),
            event(DeliveryFailed, 2),
            event(OutForDelivery, 3),
            event(DeliveryFailed, 4),
            event(Returning, 5),
        ],
        &[
            event(OutForDelivery, 1),
            event(DeliveryFailed, 2),
            event(OutForDelivery, 3),
            event(OutForDelivery, 4),
        ],
    ];
    for timeline in timelines {
        let last = timeline.last().and_then(|e| e.state);
        for order in permutations(timeline.len()) {
            let events: Vec<Incoming> = order.iter().map(|&i| timeline[i]).collect();
            assert_eq!(
                Some(run(AwaitingPickup, &events).0),
                last,
                "order {order:?}"
            );
        }
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

#[test]
fn outcomes_have_distinct_names() {
    let mut names: Vec<&str> = Skip::ALL.iter().map(|s| s.as_str()).collect();
    names.push(APPLIED);
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}

#[test]
fn citizens_hear_of_the_states_couriers_md_lists() {
    assert!(notifies_citizen(OutForDelivery));
    assert!(notifies_citizen(Delivered));
    assert!(!notifies_citizen(PickedUp));
    assert!(!notifies_citizen(InTransit));
    assert!(!notifies_citizen(Cancelled));
}
