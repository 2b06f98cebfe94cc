//! `civicpost worker`: the outbox worker alone, without the HTTP server (for nodes that only
//! carry out jobs). SIGTERM or Ctrl-C stops it after running jobs finish.

use super::CliResult;
use crate::config::Settings;

pub fn worker(settings: Settings) -> CliResult {
    crate::telemetry::init_logging(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let state = crate::app::prepare(settings).await?;
        let handle = crate::jobs::start(&state);
        shutdown_signal().await?;
        tracing::info!("shutdown requested");
        handle.stop(crate::jobs::stop_grace(&state)).await;
        Ok(())
    })
}

/// Resolves on Ctrl-C, or on SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
