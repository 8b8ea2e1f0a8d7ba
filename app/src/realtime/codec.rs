//! Engine.IO v4 and Socket.IO v5 packet codec for the WebSocket transport.
//!
//! Pure functions over strings, so they are unit-tested on the host and used
//! unchanged in the browser. Over a WebSocket each text frame carries exactly
//! one Engine.IO packet; Socket.IO packets ride inside Engine.IO `message`s.
//! Binary attachments are not used by hookbell and are rejected.

use serde::Deserialize;
use serde_json::Value;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("invalid JSON payload: {0}")]
    Json(String),
    #[error("binary packets are not supported")]
    Binary,
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}

/// The handshake the server sends first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPayload {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    #[serde(default)]
    pub max_payload: u64,
}

/// One Engine.IO v4 packet.
#[derive(Debug, Clone, PartialEq)]
pub enum EioPacket {
    Open(OpenPayload),
    Close,
    Ping(String),
    Pong(String),
    Message(String),
    Upgrade,
    Noop,
}

/// Decodes one WebSocket text frame.
pub fn decode_eio(frame: &str) -> Result<EioPacket, CodecError> {
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(CodecError::Empty)?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EioPacket::Open(serde_json::from_str(rest).map_err(|e| CodecError::Json(e.to_string()))?),
        '1' => EioPacket::Close,
        '2' => EioPacket::Ping(rest.to_owned()),
        '3' => EioPacket::Pong(rest.to_owned()),
        '4' => EioPacket::Message(rest.to_owned()),
        '5' => EioPacket::Upgrade,
        '6' => EioPacket::Noop,
        other => return Err(CodecError::UnknownType(other)),
    })
}

/// Encodes a packet the client sends (open is server-only, but is encoded for tests).
pub fn encode_eio(packet: &EioPacket) -> String {
    match packet {
        EioPacket::Open(o) => format!(
            "0{}",
            serde_json::json!({
                "sid": o.sid,
                "upgrades": o.upgrades,
                "pingInterval": o.ping_interval,
                "pingTimeout": o.ping_timeout,
                "maxPayload": o.max_payload,
            })
        ),
        EioPacket::Close => "1".into(),
        EioPacket::Ping(d) => format!("2{d}"),
        EioPacket::Pong(d) => format!("3{d}"),
        EioPacket::Message(m) => format!("4{m}"),
        EioPacket::Upgrade => "5".into(),
        EioPacket::Noop => "6".into(),
    }
}

/// One Socket.IO v5 packet. `ns` is the namespace, `/` by default.
#[derive(Debug, Clone, PartialEq)]
pub enum SioPacket {
    Connect { ns: String, data: Option<Value> },
    Disconnect { ns: String },
    Event { ns: String, id: Option<u64>, name: String, args: Vec<Value> },
    Ack { ns: String, id: u64, args: Vec<Value> },
    ConnectError { ns: String, data: Option<Value> },
}

/// Decodes the payload of an Engine.IO `message`.
pub fn decode_sio(msg: &str) -> Result<SioPacket, CodecError> {
    let mut chars = msg.chars();
    let kind = chars.next().ok_or(CodecError::Empty)?;
    let mut rest = chars.as_str();
    if matches!(kind, '5' | '6') {
        return Err(CodecError::Binary);
    }
    let mut ns = "/".to_owned();
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        ns = rest[..end].to_owned();
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        Some(rest[..digits].parse::<u64>().map_err(|_| CodecError::Malformed("ack id"))?)
    } else {
        None
    };
    rest = &rest[digits..];
    let data: Option<Value> = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str(rest).map_err(|e| CodecError::Json(e.to_string()))?)
    };
    let array = |data: Option<Value>| match data {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(CodecError::Malformed("expected a JSON array")),
    };
    Ok(match kind {
        '0' => SioPacket::Connect { ns, data },
        '1' => SioPacket::Disconnect { ns },
        '2' => {
            let mut items = array(data)?;
            if items.is_empty() {
                return Err(CodecError::Malformed("event without a name"));
            }
            let Value::String(name) = items.remove(0) else {
                return Err(CodecError::Malformed("event name is not a string"));
            };
            SioPacket::Event { ns, id, name, args: items }
        }
        '3' => SioPacket::Ack { ns, id: id.ok_or(CodecError::Malformed("ack without id"))?, args: array(data)? },
        '4' => SioPacket::ConnectError { ns, data },
        other => return Err(CodecError::UnknownType(other)),
    })
}

fn ns_prefix(ns: &str) -> String {
    if ns == "/" || ns.is_empty() {
        String::new()
    } else {
        format!("{ns},")
    }
}

/// Encodes a Socket.IO packet as the payload of an Engine.IO `message`.
pub fn encode_sio(packet: &SioPacket) -> String {
    match packet {
        SioPacket::Connect { ns, data } => {
            let body = data.as_ref().map(Value::to_string).unwrap_or_default();
            format!("0{}{body}", ns_prefix(ns))
        }
        SioPacket::Disconnect { ns } => format!("1{}", ns_prefix(ns)),
        SioPacket::Event { ns, id, name, args } => {
            let mut items = Vec::with_capacity(args.len() + 1);
            items.push(Value::String(name.clone()));
            items.extend(args.iter().cloned());
            let id = id.map(|i| i.to_string()).unwrap_or_default();
            format!("2{}{id}{}", ns_prefix(ns), Value::Array(items))
        }
        SioPacket::Ack { ns, id, args } => {
            format!("3{}{id}{}", ns_prefix(ns), Value::Array(args.clone()))
        }
        SioPacket::ConnectError { ns, data } => {
            let body = data.as_ref().map(Value::to_string).unwrap_or_default();
            format!("4{}{body}", ns_prefix(ns))
        }
    }
}

/// Convenience: a whole WebSocket frame carrying a Socket.IO packet.
pub fn frame(packet: &SioPacket) -> String {
    encode_eio(&EioPacket::Message(encode_sio(packet)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_open_handshake() {
        let p =
            decode_eio(r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#)
                .unwrap();
        let EioPacket::Open(o) = p else { panic!("not open") };
        assert_eq!(o.sid, "abc");
        assert_eq!(o.ping_interval, 25000);
        assert_eq!(o.ping_timeout, 20000);
        assert_eq!(o.max_payload, 1_000_000);
    }

    #[test]
    fn engine_io_round_trips() {
        for p in [
            EioPacket::Close,
            EioPacket::Ping(String::new()),
            EioPacket::Ping("probe".into()),
            EioPacket::Pong(String::new()),
            EioPacket::Message("2[\"x\"]".into()),
            EioPacket::Upgrade,
            EioPacket::Noop,
            EioPacket::Open(OpenPayload {
                sid: "s".into(),
                upgrades: vec!["websocket".into()],
                ping_interval: 1,
                ping_timeout: 2,
                max_payload: 3,
            }),
        ] {
            assert_eq!(decode_eio(&encode_eio(&p)).unwrap(), p);
        }
        assert_eq!(encode_eio(&EioPacket::Pong(String::new())), "3");
    }

    #[test]
    fn engine_io_rejects_garbage() {
        assert_eq!(decode_eio(""), Err(CodecError::Empty));
        assert_eq!(decode_eio("9"), Err(CodecError::UnknownType('9')));
        assert!(matches!(decode_eio("0{not json"), Err(CodecError::Json(_))));
    }

    #[test]
    fn decodes_socket_io_packets() {
        assert_eq!(
            decode_sio(r#"0{"sid":"x"}"#).unwrap(),
            SioPacket::Connect { ns: "/".into(), data: Some(json!({"sid": "x"})) }
        );
        assert_eq!(
            decode_sio(r#"2["new-notification",{"unreadCount":3}]"#).unwrap(),
            SioPacket::Event {
                ns: "/".into(),
                id: None,
                name: "new-notification".into(),
                args: vec![json!({"unreadCount": 3})]
            }
        );
        assert_eq!(
            decode_sio(r#"2/admin,12["ev",1,"two"]"#).unwrap(),
            SioPacket::Event {
                ns: "/admin".into(),
                id: Some(12),
                name: "ev".into(),
                args: vec![json!(1), json!("two")]
            }
        );
        assert_eq!(
            decode_sio(r#"37[{"ok":true}]"#).unwrap(),
            SioPacket::Ack { ns: "/".into(), id: 7, args: vec![json!({"ok": true})] }
        );
        assert_eq!(decode_sio("1").unwrap(), SioPacket::Disconnect { ns: "/".into() });
        assert_eq!(decode_sio("1/admin,").unwrap(), SioPacket::Disconnect { ns: "/admin".into() });
        assert_eq!(
            decode_sio(r#"4{"message":"Not authorized"}"#).unwrap(),
            SioPacket::ConnectError { ns: "/".into(), data: Some(json!({"message": "Not authorized"})) }
        );
    }

    #[test]
    fn socket_io_round_trips() {
        for p in [
            SioPacket::Connect { ns: "/".into(), data: None },
            SioPacket::Connect { ns: "/".into(), data: Some(json!({"token": "t"})) },
            SioPacket::Connect { ns: "/x".into(), data: None },
            SioPacket::Disconnect { ns: "/".into() },
            SioPacket::Event {
                ns: "/".into(),
                id: Some(0),
                name: "join-tenant".into(),
                args: vec![json!({"tenantId": "a"})],
            },
            SioPacket::Event { ns: "/y".into(), id: None, name: "e".into(), args: vec![] },
            SioPacket::Ack { ns: "/".into(), id: 42, args: vec![json!(null)] },
            SioPacket::ConnectError { ns: "/".into(), data: Some(json!({"message": "no"})) },
        ] {
            assert_eq!(decode_sio(&encode_sio(&p)).unwrap(), p, "{p:?}");
        }
    }

    #[test]
    fn encodes_events_as_the_reference_client_does() {
        let p = SioPacket::Event { ns: "/".into(), id: Some(3), name: "join-tenant".into(), args: vec![json!("abc")] };
        assert_eq!(frame(&p), r#"423["join-tenant","abc"]"#);
        assert_eq!(frame(&SioPacket::Connect { ns: "/".into(), data: None }), "40");
    }

    #[test]
    fn socket_io_rejects_bad_packets() {
        assert_eq!(decode_sio(""), Err(CodecError::Empty));
        assert_eq!(decode_sio(r#"51-["x",{"_placeholder":true,"num":0}]"#), Err(CodecError::Binary));
        assert!(matches!(decode_sio("2[]"), Err(CodecError::Malformed(_))));
        assert!(matches!(decode_sio("2[1]"), Err(CodecError::Malformed(_))));
        assert!(matches!(decode_sio("2{}"), Err(CodecError::Malformed(_))));
        assert!(matches!(decode_sio("3[1]"), Err(CodecError::Malformed(_))));
        assert!(matches!(decode_sio("2[\"x\""), Err(CodecError::Json(_))));
        assert_eq!(decode_sio("9"), Err(CodecError::UnknownType('9')));
        assert!(decode_sio("299999999999999999999999[\"x\"]").is_err());
    }
}
