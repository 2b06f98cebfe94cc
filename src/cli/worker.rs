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
        // Listen before the worker starts: a SIGTERM that arrived before the handler was in
        // place would kill the process outright instead of stopping it gracefully.
        let shutdown = shutdown_signal()?;
        let handle = crate::jobs::start(&state);
        shutdown.await;
        tracing::info!("shutdown requested");
        handle.stop(crate::jobs::stop_grace(&state)).await;
        Ok(())
    })
}

/// Registers for SIGTERM (what service managers and container runtimes send) at once and
/// returns a future that resolves on it or on Ctrl-C.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
