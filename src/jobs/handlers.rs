//! The handlers this service runs. Each issue that adds a job kind registers its handler
//! here with one line; until then its jobs wait, pending.

use super::Registry;
use super::ingest::IngestWebhookHandler;
use crate::app::AppState;

/// The registry `serve` and `civicpost worker` run with.
pub fn registry() -> Registry<AppState> {
    Registry::new()
        .with(super::dispatch::DispatchHandler)
        .with(super::courier_cancel::CourierCancelHandler)
        .with(IngestWebhookHandler)
        .with(super::callback::CallbackHandler)
        .with(super::notify::NotifyHandler)
        .with(super::send_notification::SendNotificationHandler)
}
