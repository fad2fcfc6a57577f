//! Where an integration may send. A workspace names the vendor's address (or its own
//! webhook URL); it must not become a way into our network. In production only `https` to
//! a public host is accepted: no loopback, private, link-local, shared or reserved
//! addresses, no `localhost` or internal names. Names are checked again where they resolve
//! (the sync worker's resolver refuses a name that resolves to a non-public address), so a
//! public name pointed at 10.0.0.1 later is refused too. `make dev` and the tests allow
//! `http://127.0.0.1:…` (`INTEGRATIONS_ALLOW_LOCAL_HTTP=1`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Which addresses are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Also accept `http` to the loopback interface (local stack and tests only).
    pub allow_local_http: bool,
}

/// `raw` as an address the policy accepts, without a trailing slash; or why not.
pub fn check(raw: &str, policy: AddressPolicy) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password: credentials go in `credentials`".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    let host = url.host().ok_or_else(|| format!("`{raw}` has no host"))?;
    let loopback = match &host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(_) => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_local_http && loopback => return Ok(trimmed(&url)),
        _ => return Err(format!("must be an https URL (`{raw}`)")),
    }
    match host {
        Host::Ipv4(ip) if !is_public(IpAddr::V4(ip)) => Err(format!("{ip} is not a public address")),
        Host::Ipv6(ip) if !is_public(IpAddr::V6(ip)) => Err(format!("{ip} is not a public address")),
        Host::Domain(name) if is_internal_name(name) => Err(format!("`{name}` is not a public host name")),
        _ => Ok(trimmed(&url)),
    }
}

fn trimmed(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // A public host name has a dot; single labels resolve through search domains.
    !name.contains('.')
        || [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), multicast, documentation, benchmarking or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let second = ip.segments()[1];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Addresses that carry an IPv4 address inside: 6to4, Teredo, IPv4-compatible.
        || first == 0x2002
        || (first == 0x2001 && second == 0)
        || ip.segments()[..6].iter().all(|s| *s == 0)
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: AddressPolicy = AddressPolicy { allow_local_http: false };
    const LOCAL: AddressPolicy = AddressPolicy { allow_local_http: true };

    #[test]
    fn production_takes_https_to_public_hosts_only() {
        assert_eq!(check("https://api.hubapi.com/", PROD).unwrap(), "https://api.hubapi.com");
        assert_eq!(check("https://8.8.8.8/hooks", PROD).unwrap(), "https://8.8.8.8/hooks");
        for refused in [
            "http://api.hubapi.com",
            "https://127.0.0.1",
            "https://10.0.0.8/x",
            "https://172.16.3.4",
            "https://192.168.1.1",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1",
            "https://[::1]",
            "https://[fd00::1]",
            "https://[fe80::1]",
            "https://[::ffff:10.0.0.1]",
            "https://[2002:0a00:0001::1]",
            "https://[2001:0:4136:e378::1]",
            "https://[::10.0.0.1]",
            "https://localhost",
            "https://metadata",
            "https://db.internal",
            "https://user:pw@example.com",
            "ftp://example.com",
            "not a url",
        ] {
            assert!(check(refused, PROD).is_err(), "{refused} accepted");
        }
    }

    #[test]
    fn the_local_stack_also_takes_http_to_loopback() {
        assert_eq!(check("http://127.0.0.1:4010/", LOCAL).unwrap(), "http://127.0.0.1:4010");
        assert!(check("http://10.0.0.1:4010", LOCAL).is_err());
        assert!(check("http://example.com", LOCAL).is_err());
    }
}
