//! What a request presented, read from its HTTP headers: the credential, the
//! cookies, the origin, the tenant it names and the client's address. The
//! web layer ([`crate::http`]) and the socket handshake ([`crate::realtime`])
//! read headers only here and hand the service layer a plain
//! [`Presented`]; cookies are written here too.

use std::net::IpAddr;

use axum::http::{header, request::Parts, HeaderMap};

use crate::{
    config::Mode,
    service::{
        auth::SESSION_MAX,
        ctx::{Credential, Presented},
    },
};

/// The seed's tenant-selecting header.
pub const TENANT_HEADER: &str = "x-tenant-id";
/// The name of the session cookie in development.
pub const SESSION_COOKIE: &str = "hookbell_session";
/// Its name in production: the `__Host-` prefix makes browsers refuse it
/// unless it is `Secure`, for this host only (no `Domain`) and `Path=/`, so a
/// sibling subdomain or a plain-HTTP page cannot plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-hookbell_session";
/// The cookie in which a browser remembers the tenant it switched to (development).
pub const TENANT_COOKIE: &str = "hookbell_tenant";
/// Its name in production (see [`SECURE_SESSION_COOKIE`]).
pub const SECURE_TENANT_COOKIE: &str = "__Host-hookbell_tenant";

/// The session cookie's name in this mode.
pub fn session_cookie_name(development: bool) -> &'static str {
    if development {
        SESSION_COOKIE
    } else {
        SECURE_SESSION_COOKIE
    }
}

/// The tenant cookie's name in this mode.
pub fn tenant_cookie_name(development: bool) -> &'static str {
    if development {
        TENANT_COOKIE
    } else {
        SECURE_TENANT_COOKIE
    }
}

/// The credential of a request's (or a socket handshake's) headers, and of a
/// socket's auth payload: an API key first (`Authorization: Bearer hb_…` or
/// `{"apiKey": …}`), then the session cookie, then, in development only, the demo user.
pub fn credential(headers: &HeaderMap, auth: Option<&serde_json::Value>, development: bool) -> Option<Credential> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|k| k.trim().to_owned());
    let payload_key = auth.and_then(|a| a.get("apiKey")).and_then(|k| k.as_str()).map(|k| k.trim().to_owned());
    if let Some(key) = bearer.or(payload_key) {
        return Some(Credential::ApiKey(key));
    }
    if let Some(token) = session_cookie(headers, development) {
        return Some(Credential::Session(token));
    }
    development.then_some(Credential::DevDemo)
}

/// What the headers of a request (or a socket handshake) present.
pub fn presented_by(headers: &HeaderMap, auth: Option<&serde_json::Value>, development: bool) -> Presented {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Presented {
        credential: credential(headers, auth, development),
        changes_state: false,
        origin_sent: headers.contains_key(header::ORIGIN),
        origin: text(header::ORIGIN),
        referer: text(header::REFERER),
        host: text(header::HOST),
        // A header that is not text names no tenant of the caller's.
        tenant_asked: headers.get(TENANT_HEADER).map(|v| v.to_str().unwrap_or("").to_owned()),
        tenant_chosen: cookie(headers, tenant_cookie_name(development)),
        session_token: session_cookie(headers, development),
        source_ip: None,
        user_agent: text(header::USER_AGENT),
        forwarded_proto: forwarded_proto(headers),
    }
}

/// What a request presents: its headers, whether its method changes state,
/// and the address the server saw the connection come from.
pub fn presented(req: &Parts, development: bool) -> Presented {
    Presented {
        changes_state: !req.method.is_safe(),
        source_ip: source_ip(req),
        ..presented_by(&req.headers, None, development)
    }
}

/// The client a request comes from: the connection's peer, unless that is one
/// of the `trusted` proxies; then the nearest address in `X-Forwarded-For`
/// (read from the right, as each proxy appends the address it saw) that is
/// not itself a trusted proxy. Entries a client wrote further left are never
/// believed; an entry that is no address stops the walk at the last proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_FORWARDED_HOPS) {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !is_trusted(&client) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// `X-Forwarded-Proto`, the scheme a trusted proxy was reached by. The
/// accept loop removes it from requests of anyone else ([`strip_untrusted_forwarding`]),
/// so what is left here came from a trusted proxy. One value, `http` or
/// `https`; a list or anything else is not believed.
pub fn forwarded_proto(headers: &HeaderMap) -> Option<&'static str> {
    let mut values = headers.get_all(FORWARDED_PROTO).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return None };
    match value.to_str().ok()?.trim().to_ascii_lowercase().as_str() {
        "https" => Some("https"),
        "http" => Some("http"),
        _ => None,
    }
}

const FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Removes `X-Forwarded-Proto` unless `peer` is a trusted proxy: a client's own is never believed.
pub fn strip_untrusted_forwarding(peer: IpAddr, headers: &mut HeaderMap, trusted: &[ipnet::IpNet]) {
    if !trusted.iter().any(|net| net.contains(&peer.to_canonical())) {
        headers.remove(FORWARDED_PROTO);
    }
}

/// How many `X-Forwarded-For` entries are read at most: a chain of proxies is short.
const MAX_FORWARDED_HOPS: usize = 16;

/// The client's address, as the server saw the connection (see [`client_address`]).
pub fn source_ip(req: &Parts) -> Option<String> {
    req.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())
}

/// The session token from the `Cookie` header (the cookie's name depends on the mode).
pub fn session_cookie(headers: &HeaderMap, development: bool) -> Option<String> {
    cookie(headers, session_cookie_name(development))
}

/// A non-empty cookie's value from the `Cookie` header.
fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value of ours: HttpOnly, SameSite=Lax, Secure in
/// production (and in development when a trusted proxy says the browser came
/// over https), as long as a session lasts; an empty value clears it.
fn set_cookie(name: &str, value: &str, mode: Mode, over_https: bool) -> String {
    let max_age = if value.is_empty() { 0 } else { SESSION_MAX.as_secs() };
    let secure = if mode == Mode::Production || over_https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Whether the browser reached a trusted proxy over https (`X-Forwarded-Proto`).
pub fn over_https(presented: &Presented) -> bool {
    presented.forwarded_proto == Some("https")
}

/// The `Set-Cookie` value for a session token (an empty token clears the cookie).
pub fn session_set_cookie(mode: Mode, presented: &Presented, token: &str) -> String {
    set_cookie(session_cookie_name(mode == Mode::Development), token, mode, over_https(presented))
}

/// The `Set-Cookie` value that remembers the tenant a browser switched to.
pub fn tenant_set_cookie(mode: Mode, presented: &Presented, tenant_id: &str) -> String {
    set_cookie(tenant_cookie_name(mode == Mode::Development), tenant_id, mode, over_https(presented))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_scheme_is_one_value_and_only_a_trusted_proxys() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("x-forwarded-proto", v.parse().unwrap());
            }
            h
        };
        let mut h = headers(&["HTTPS"]);
        strip_untrusted_forwarding("10.1.2.3".parse().unwrap(), &mut h, &trusted);
        assert_eq!(forwarded_proto(&h), Some("https"));
        strip_untrusted_forwarding("192.0.2.1".parse().unwrap(), &mut h, &trusted);
        assert_eq!(forwarded_proto(&h), None, "a client's own is removed");
        assert_eq!(forwarded_proto(&headers(&["http"])), Some("http"));
        for bad in [&["https", "http"][..], &["https, http"], &["ftp"], &[""]] {
            assert_eq!(forwarded_proto(&headers(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn a_forwarded_client_is_believed_only_from_a_trusted_proxy() {
        let nets: Vec<ipnet::IpNet> = ["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()].into();
        let with = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.5");
        // A client that is no proxy says what it likes: ignored.
        assert_eq!(client_address(ip("203.0.113.9"), &with(&["198.51.100.1"]), &nets), ip("203.0.113.9"));
        // Through one proxy: the address it appended.
        assert_eq!(client_address(proxy, &with(&["198.51.100.1"]), &nets), ip("198.51.100.1"));
        // What the client wrote to the left of what the proxy appended is not believed.
        assert_eq!(client_address(proxy, &with(&["1.2.3.4, 198.51.100.1"]), &nets), ip("198.51.100.1"));
        // Through two proxies, and over two header lines.
        assert_eq!(client_address(proxy, &with(&["1.2.3.4, 198.51.100.1, 10.9.9.9"]), &nets), ip("198.51.100.1"));
        assert_eq!(client_address(proxy, &with(&["198.51.100.1", "10.9.9.9"]), &nets), ip("198.51.100.1"));
        // Garbage stops at the last proxy; no header leaves the proxy itself; IPv4-mapped IPv6 is IPv4.
        assert_eq!(client_address(proxy, &with(&["198.51.100.1, unknown"]), &nets), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &nets), proxy);
        assert_eq!(client_address(proxy, &with(&["::ffff:198.51.100.1"]), &nets), ip("198.51.100.1"));
        assert_eq!(client_address(ip("::ffff:127.0.0.1"), &with(&["198.51.100.2"]), &nets), ip("198.51.100.2"));
        // Nobody trusted (the default): the peer, always.
        assert_eq!(client_address(proxy, &with(&["198.51.100.1"]), &[]), proxy);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; hookbell_session=hbs_abc; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h, true).as_deref(), Some("hbs_abc"));
        assert_eq!(session_cookie(&h, false), None, "production reads only the __Host- cookie");
        h.insert(header::COOKIE, "__Host-hookbell_session=hbs_x; hookbell_session=hbs_y".parse().unwrap());
        assert_eq!(session_cookie(&h, false).as_deref(), Some("hbs_x"));
        h.insert(header::COOKIE, "hookbell_session=; x=hookbell_session".parse().unwrap());
        assert_eq!(session_cookie(&h, true), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_in_production() {
        let plain = Presented::default();
        let c = session_set_cookie(Mode::Production, &plain, "hbs_x");
        assert!(c.starts_with("__Host-hookbell_session=hbs_x; Path=/; HttpOnly; SameSite=Lax"), "{c}");
        assert!(c.ends_with("; Secure"), "{c}");
        assert!(session_set_cookie(Mode::Development, &plain, "").contains("Max-Age=0"));
        assert!(!session_set_cookie(Mode::Development, &plain, "t").contains("Secure"));
        let forwarded = Presented { forwarded_proto: Some("https"), ..Default::default() };
        assert!(session_set_cookie(Mode::Development, &forwarded, "t").ends_with("; Secure"), "behind https");
    }
}
