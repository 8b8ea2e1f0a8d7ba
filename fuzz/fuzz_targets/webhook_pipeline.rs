//! Fuzzes the whole webhook pipeline in process: signature headers + body →
//! outcome, on a real SQLite store. Half of the inputs are re-signed with the
//! tenant's real secret (and aimed at its id) so the fuzzer gets past
//! verification into validation and storage.
//!
//! Invariant: every outcome is a success or a 4xx — never an internal error,
//! never a panic.

#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use server::{
    config::Config,
    service::{webhooks::Endpoint, Services},
    signature::{sign_seed, sign_standard, SignatureHeaders},
};

/// A JSON value built from the fuzzer's bytes, biased towards the names and
/// values the endpoints know, so that inputs get past parsing into validation.
#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// One of [`KNOWN_VALUES`].
    Known(u8),
    List(Vec<Json>),
    /// Fields named from [`KEYS`].
    Object(Vec<(u8, Json)>),
}

const KEYS: &[&str] = &[
    "tenantId", "orderNumber", "orderId", "customerName", "customerEmail", "amount", "currency", "status",
    "items", "productId", "productName", "quantity", "price", "metadata", "title", "message", "type",
    "priority", "userId", "actionUrl", "actionText", "paymentId", "paymentStatus", "paymentMethod",
];

const KNOWN_VALUES: &[&str] = &[
    "\"ORD-1\"", "\"ORD-2\"", "\"paid\"", "\"pending\"", "\"failed\"", "\"refunded\"", "\"completed\"",
    "\"info\"", "\"success\"", "\"warning\"", "\"error\"", "\"low\"", "\"medium\"", "\"high\"",
    "\"urgent\"", "\"/orders/1\"", "\"https://example.com/x\"", "\"javascript:alert(1)\"",
    "\"john@example.com\"", "\"USD\"", "99.99", "0", "-1", "1e300", "123456789012345678901234567890", "0.001", "2", "\"\"",
    "\"pay_1\"", "[]", "{}",
];

impl Json {
    fn build(&self, depth: u8) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => (*i).into(),
            Json::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Json::Str(s) => Value::String(s.clone()),
            Json::Known(k) => serde_json::from_str(KNOWN_VALUES[usize::from(*k) % KNOWN_VALUES.len()]).unwrap(),
            Json::List(items) if depth < 4 => Value::Array(items.iter().map(|v| v.build(depth + 1)).collect()),
            Json::Object(fields) if depth < 4 => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (KEYS[usize::from(*k) % KEYS.len()].to_owned(), v.build(depth + 1)))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: u8,
    /// When set, the body is this value's JSON instead of `body`.
    json: Option<Json>,
    seed: Option<String>,
    webhook_id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
    /// 0: as given; 1: re-signed the seed's way; 2: re-signed the Standard Webhooks way.
    sign: u8,
}

struct World {
    rt: tokio::runtime::Runtime,
    services: Arc<Services>,
    tenant_id: String,
    secret: String,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fuzz.sqlite3").to_string_lossy().into_owned();
        let config = Config::from_lookup(|k| match k {
            "DATABASE_PATH" => Some(db.clone()),
            "HOOKBELL_WEBHOOK_RATE" => Some("0".into()),
            _ => None,
        })
        .unwrap();
        let (services, tenant_id, secret) = rt.block_on(async {
            let store = server::open_store(&config).await.unwrap();
            let sealer = server::load_sealer(&config).unwrap();
            let options = server::leptos_options(&config);
            let built = server::build_with_store(config, store, sealer, options).await.unwrap();
            let created = built.services.create_tenant("Fuzz", "fuzz").await.unwrap();
            (built.services, created.tenant.id, created.webhook_secret)
        });
        World { rt, services, tenant_id, secret, _dir: dir }
    })
}

fuzz_target!(|input: Input| {
    let w = world();
    let endpoint = Endpoint::ALL[usize::from(input.endpoint) % 3];
    let mut body = match &input.json {
        Some(json) => serde_json::to_vec(&json.build(0)).unwrap(),
        None => input.body,
    };
    let mut headers = SignatureHeaders {
        seed: input.seed,
        webhook_id: input.webhook_id,
        timestamp: input.timestamp,
        signature: input.signature,
    };
    if input.sign % 3 != 0 {
        // Aim at the real tenant, then sign properly.
        if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice::<serde_json::Value>(&body) {
            map.insert("tenantId".into(), w.tenant_id.clone().into());
            body = serde_json::to_vec(&map).unwrap();
        }
        if input.sign % 3 == 1 {
            headers.seed = Some(sign_seed(&w.secret, &body));
            headers.signature = None;
        } else {
            let id = headers.webhook_id.clone().unwrap_or_else(|| "msg_fuzz".into());
            let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            headers.signature = Some(sign_standard(&w.secret, &id, ts, &body));
            headers.webhook_id = Some(id);
            headers.timestamp = Some(ts.to_string());
        }
    }
    let result = w.rt.block_on(w.services.ingest(endpoint, body.into(), None, headers, None));
    match result {
        Ok(accepted) => assert_eq!(accepted.body()["success"], true),
        Err(e) => assert!(e.status().is_client_error(), "{endpoint:?} answered {} for {e:?}", e.status()),
    }
});
