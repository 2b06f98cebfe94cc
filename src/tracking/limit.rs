//! Rate limits of the public tracking endpoints: per client address across all of them, and
//! per dossier code for the dossier + phone digits lookup. Token buckets through
//! [`Coordinator::rate_limit`], so they are shared by every node when Redis is configured.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::cache::{Cache, Coordinator, RateLimit};
use crate::config::TrackingSettings;

/// The client address a limit is counted against. IPv6 clients are counted by their /64: one
/// subscriber usually holds a whole /64 and could otherwise hop addresses at will.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The client's address: the TCP peer, or behind one trusted reverse proxy the last
/// `X-Forwarded-For` entry (the one that proxy appended; earlier ones are the client's word).
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    settings: &TrackingSettings,
) -> Option<IpAddr> {
    if settings.trust_forwarded_for
        && let Some(last) = forwarded_for.and_then(|h| h.rsplit(',').next())
        && let Ok(ip) = last.trim().parse::<IpAddr>()
    {
        return Some(ip);
    }
    peer
}

/// `Err(retry_after)` when the client has used up its requests. Fails open on a cache error:
/// tracking pages matter more than a perfect count.
pub async fn check_client(
    cache: &Cache,
    settings: &TrackingSettings,
    client: &str,
) -> Result<(), Duration> {
    if settings.rate_limit_per_minute == 0 {
        return Ok(());
    }
    let limit = RateLimit::per_minute(settings.rate_limit_per_minute);
    check(cache, &format!("track:ip:{client}"), limit).await
}

/// The per-dossier limit of the dossier + phone digits lookup. The key is a hash: dossier
/// codes typed by citizens stay out of Redis.
pub async fn check_dossier(
    cache: &Cache,
    settings: &TrackingSettings,
    dossier: &str,
) -> Result<(), Duration> {
    let per_hour = settings.dossier_attempts_per_hour;
    if per_hour == 0 {
        return Ok(());
    }
    let digest = Sha256::digest(dossier.to_uppercase().as_bytes());
    let key = format!("track:dossier:{}", hex::encode(&digest[..12]));
    check(
        cache,
        &key,
        RateLimit::new(per_hour, f64::from(per_hour) / 3600.0),
    )
    .await
}

async fn check(cache: &Cache, key: &str, limit: RateLimit) -> Result<(), Duration> {
    match cache.rate_limit(key, limit).await {
        Ok(decision) if decision.allowed => Ok(()),
        Ok(decision) => {
            metrics::counter!("civicpost_tracking_rate_limited_total").increment(1);
            Err(decision.retry_after)
        }
        Err(e) => {
            tracing::warn!(error = %e, "tracking rate limit unavailable; request allowed");
            Ok(())
        }
    }
}

/// Whole seconds for `Retry-After`, never 0 (0 would invite an immediate retry).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trust: bool) -> TrackingSettings {
        let mut s = crate::config::Settings::with_overrides(serde_json::json!({}))
            .expect("defaults")
            .tracking;
        s.trust_forwarded_for = trust;
        s
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.1".parse().expect("ip");
        let header = Some("1.2.3.4, 203.0.113.9");
        assert_eq!(client_ip(Some(peer), header, &settings(false)), Some(peer));
        assert_eq!(
            client_ip(Some(peer), header, &settings(true)),
            "203.0.113.9".parse().ok()
        );
        assert_eq!(
            client_ip(Some(peer), Some("junk"), &settings(true)),
            Some(peer)
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(mapped), "192.0.2.7");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
