//! The SSRF guard: a callback URL is http(s) and may only reach public addresses, unless
//! `callbacks.allow_private_addresses` says otherwise.
//!
//! Checked twice: when the operator sets the URL (an answer naming the field) and at every
//! send. At send time the check sits in the HTTP client's resolver ([`GuardedResolver`]):
//! the addresses it checks are the very addresses the connection then uses, so a name that
//! resolves to a public address for the check and to a private one a moment later (DNS
//! rebinding) cannot slip through. Hosts written as IP addresses never reach a resolver and
//! are checked before the request ([`check_host`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

const MAX_URL: usize = 2048;

/// Why an address is not public, or `None` for a public address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "unspecified",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (169, 254, _) => "link-local",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (192, 0, 0) | (192, 88, 99) => "reserved",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Addresses that carry an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, ..] => return Some("reserved"),
        // NAT64, well-known prefix: 64:ff9b::a.b.c.d.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return non_public_v4(embedded(hi, lo)),
        // 6to4: 2002:aabb:ccdd::/48.
        [0x2002, hi, lo, ..] => return non_public_v4(embedded(hi, lo)),
        _ => {}
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "unique-local",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local (deprecated)",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        // Teredo (2001::/32), benchmarking (2001:2::/48), ORCHID (2001:10::/28, 2001:20::/28).
        0x2001 if s[1] == 0 || s[1] == 2 || (0x10..=0x2f).contains(&s[1]) => "reserved",
        0x3fff if s[1] < 0x1000 => "documentation",
        // Only 2000::/3 is global unicast; NAT64's local-use 64:ff9b:1::/48 and every
        // other range are not public.
        0x2000..=0x3fff => return None,
        _ => "reserved",
    })
}

/// A callback URL that is not acceptable, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error(
        "give an absolute https:// (or http://) URL with a host, no user name or password, at most 2048 characters"
    )]
    Invalid,
    #[error("{host} is {address}, a {kind} address; callbacks only go to public addresses")]
    NotPublic {
        host: String,
        address: IpAddr,
        kind: &'static str,
    },
}

/// Parses a callback URL: http(s), a host, no credentials.
pub fn parse(url: &str) -> Result<Url, UrlProblem> {
    if url.len() > MAX_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlProblem::Invalid);
    }
    // The parser forgives `https:///path` (and `https:path`) as `https://path/`: a typo that
    // names a host by accident.
    let host_written = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.starts_with('/') && !rest.starts_with('\\'));
    if !host_written {
        return Err(UrlProblem::Invalid);
    }
    let parsed = Url::parse(url).map_err(|_| UrlProblem::Invalid)?;
    let scheme_ok = matches!(parsed.scheme(), "http" | "https");
    let host_ok = parsed.host_str().is_some_and(|h| !h.is_empty());
    let no_credentials = parsed.username().is_empty() && parsed.password().is_none();
    if scheme_ok && host_ok && no_credentials {
        Ok(parsed)
    } else {
        Err(UrlProblem::Invalid)
    }
}

/// The URL's host when it is written as an address (which no resolver sees): refused when it
/// is not public, unless allowed. Names pass here and are checked when resolved.
pub fn check_host(url: &Url, allow_private: bool) -> Result<(), UrlProblem> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(_)) => return Ok(()),
        None => return Err(UrlProblem::Invalid),
    };
    refuse_non_public(url.host_str().unwrap_or_default(), ip, allow_private)
}

fn refuse_non_public(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), UrlProblem> {
    match non_public(ip) {
        Some(kind) if !allow_private => Err(UrlProblem::NotPublic {
            host: host.to_owned(),
            address: ip,
            kind,
        }),
        _ => Ok(()),
    }
}

/// Resolves `host` and refuses it when any of its addresses is not public (a mixed answer is
/// how rebinding attacks start). A host that does not resolve passes: its DNS may not be
/// published yet, and every send checks again.
pub async fn check_resolved(
    url: &Url,
    allow_private: bool,
    timeout: Duration,
) -> Result<(), UrlProblem> {
    check_host(url, allow_private)?;
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    if allow_private {
        return Ok(());
    }
    let lookup = tokio::net::lookup_host((name, 0));
    let Ok(Ok(addrs)) = tokio::time::timeout(timeout, lookup).await else {
        return Ok(());
    };
    for addr in addrs {
        refuse_non_public(name, addr.ip(), allow_private)?;
    }
    Ok(())
}

/// The callback client's resolver: the system's, with every answer checked.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            for addr in &addrs {
                refuse_non_public(&host, addr.ip(), allow_private)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl GuardedResolver {
    pub fn shared(allow_private: bool) -> Arc<Self> {
        Arc::new(Self { allow_private })
    }
}

/// Finds the guard's refusal in an error's chain (a reqwest error wraps the resolver's).
pub fn refusal_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a UrlProblem> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(problem) = e.downcast_ref::<UrlProblem>() {
            return Some(problem);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<&'static str> {
        non_public(text.parse().expect("address"))
    }

    #[test]
    fn ipv4_ranges_that_are_not_public() {
        let cases = [
            ("0.0.0.0", "unspecified"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.5", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("169.254.169.254", "link-local"),
            ("192.0.2.10", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "203.113.131.1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges_and_embedded_ipv4() {
        let cases = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "reserved"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b:1::1", "reserved"),
            ("2002:a00:1::1", "private"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local (deprecated)"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "reserved"),
            ("100::1", "reserved"),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
        for ip in [
            "2001:4860:4860::8888",
            "2402:800:20ff::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn urls_need_http_a_host_and_no_credentials() {
        assert!(parse("https://motcua.example.gov.vn/hooks?x=1").is_ok());
        assert!(parse("http://10.0.0.5:8080/cb").is_ok());
        for bad in [
            "ftp://example.com",
            "https:///path",
            "https:path",
            "https:\\\\evil.example",
            "https://user@evil.example",
            "https://user:pw@evil.example",
            "https://a b.vn",
            "motcua.example.gov.vn/hooks",
            "",
        ] {
            assert_eq!(parse(bad), Err(UrlProblem::Invalid), "{bad}");
        }
        assert_eq!(
            parse(&format!("https://a.vn/{}", "x".repeat(2048))),
            Err(UrlProblem::Invalid)
        );
    }

    #[test]
    fn literal_hosts_are_checked_in_every_spelling() {
        for url in [
            "http://127.0.0.1:9/cb",
            "http://10.1.2.3/cb",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/cb",
            "http://[::ffff:127.0.0.1]/cb",
            "http://[::ffff:7f00:1]/cb",
            "http://2130706433/cb",
            "http://0x7f.0.0.1/cb",
            "http://0177.0.0.1/cb",
            "http://0/cb",
        ] {
            let parsed = parse(url).expect(url);
            assert!(
                matches!(
                    check_host(&parsed, false),
                    Err(UrlProblem::NotPublic { .. })
                ),
                "{url}"
            );
            assert_eq!(check_host(&parsed, true), Ok(()), "{url}");
        }
        let public = parse("https://203.113.131.1/cb").expect("url");
        assert_eq!(check_host(&public, false), Ok(()));
        let named = parse("https://motcua.example.gov.vn/cb").expect("url");
        assert_eq!(check_host(&named, false), Ok(()));
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked() {
        let timeout = Duration::from_secs(2);
        let local = parse("http://localhost:8080/cb").expect("url");
        assert!(matches!(
            check_resolved(&local, false, timeout).await,
            Err(UrlProblem::NotPublic { .. })
        ));
        assert_eq!(check_resolved(&local, true, timeout).await, Ok(()));
        let resolver = GuardedResolver {
            allow_private: false,
        };
        let refused = resolver
            .resolve("localhost".parse().expect("name"))
            .await
            .err()
            .expect("refused");
        assert!(refusal_in(refused.as_ref()).is_some(), "{refused}");
        let allowed = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = allowed
            .resolve("localhost".parse().expect("name"))
            .await
            .expect("resolves")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
