//! `server send order|payment|notification`: one signed webhook from flags, a
//! JSON file or stdin, delivered with the SDK's retries; prints the delivery
//! (every attempt and the server's answer) as JSON.

use std::{io::Read, path::PathBuf};

use clap::{Args, ValueEnum};
use hookbell_sdk::{new_webhook_id, Endpoint};
use serde_json::{json, Map, Value};

use super::Target;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// `POST /api/webhooks/orders`
    #[value(alias = "orders")]
    Order,
    /// `POST /api/webhooks/payments`
    #[value(alias = "payments")]
    Payment,
    /// `POST /api/webhooks/notifications`
    #[value(alias = "notifications")]
    Notification,
}

impl Kind {
    fn endpoint(self) -> Endpoint {
        match self {
            Kind::Order => Endpoint::Orders,
            Kind::Payment => Endpoint::Payments,
            Kind::Notification => Endpoint::Notifications,
        }
    }
}

/// `server send …`
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// order, payment or notification.
    #[arg(value_enum)]
    pub kind: Kind,
    #[command(flatten)]
    pub target: Target,
    /// Read the body from this JSON file (`-` for stdin). Without --file and
    /// without fields, the body is read from stdin.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// A text field: `--set orderNumber=ORD-1` (overrides the file's).
    #[arg(long = "set", value_name = "FIELD=TEXT")]
    pub texts: Vec<String>,
    /// A JSON field: `--json amount=99.99`, `--json 'items=[…]'`.
    #[arg(long = "json", value_name = "FIELD=JSON")]
    pub values: Vec<String>,
    /// The `webhook-id` (default: a new random one). Resending with the same
    /// id is answered from the first delivery instead of being stored twice.
    #[arg(long)]
    pub webhook_id: Option<String>,
}

/// Why `send` could not even try.
#[derive(Debug, thiserror::Error)]
pub enum SendCommandError {
    #[error("cannot read the body: {0}")]
    Read(#[from] std::io::Error),
    #[error("{0}")]
    Body(String),
    #[error(transparent)]
    Sdk(#[from] hookbell_sdk::SendError),
}

/// Builds the body from the file/stdin and the field flags.
pub fn body(args: &SendArgs, stdin: impl Read) -> Result<Map<String, Value>, SendCommandError> {
    let from_input = match &args.file {
        Some(path) if path.as_os_str() == "-" => Some(read_json(stdin)?),
        Some(path) => Some(read_json(std::fs::File::open(path)?)?),
        None if args.texts.is_empty() && args.values.is_empty() => Some(read_json(stdin)?),
        None => None,
    };
    let mut object = match from_input {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(SendCommandError::Body("the body must be a JSON object".into())),
    };
    for pair in &args.texts {
        let (field, text) = split_field(pair)?;
        object.insert(field.to_owned(), Value::String(text.to_owned()));
    }
    for pair in &args.values {
        let (field, raw) = split_field(pair)?;
        let value =
            serde_json::from_str(raw).map_err(|e| SendCommandError::Body(format!("--json {field}: not JSON ({e})")))?;
        object.insert(field.to_owned(), value);
    }
    Ok(object)
}

fn read_json(mut input: impl Read) -> Result<Value, SendCommandError> {
    let mut text = String::new();
    input.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|e| SendCommandError::Body(format!("the body is not JSON: {e}")))
}

fn split_field(pair: &str) -> Result<(&str, &str), SendCommandError> {
    match pair.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => Ok((field.trim(), value)),
        _ => Err(SendCommandError::Body(format!("expected FIELD=VALUE, got {pair:?}"))),
    }
}

/// Sends the webhook; the JSON report and whether it was delivered.
pub async fn run(args: &SendArgs, stdin: impl Read) -> Result<(Value, bool), SendCommandError> {
    let sender = args.target.sender()?;
    let body = sender.body(&body(args, stdin)?)?;
    let webhook_id = args.webhook_id.clone().unwrap_or_else(new_webhook_id);
    let delivery = sender.deliver(args.kind.endpoint(), body, webhook_id).await;
    let ok = delivery.succeeded();
    let report = json!({
        "success": ok,
        "status": delivery.status(),
        "url": delivery.url,
        "webhookId": delivery.webhook_id,
        "attempts": delivery.attempts,
        "response": delivery.response,
    });
    Ok((report, ok))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        send: SendArgs,
    }

    fn args(extra: &[&str]) -> SendArgs {
        let mut argv = vec!["send", "order", "--tenant", "t1", "--secret", "s"];
        argv.extend_from_slice(extra);
        Cmd::parse_from(argv).send
    }

    #[test]
    fn fields_override_the_file_and_json_values_stay_typed() {
        let dir = std::env::temp_dir().join(format!("hookbell-send-{}", std::process::id()));
        std::fs::write(&dir, r#"{"orderNumber":"A","amount":1}"#).unwrap();
        let a = args(&["--file", dir.to_str().unwrap(), "--set", "orderNumber=B", "--json", "amount=99.99"]);
        let body = body(&a, std::io::empty()).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(Value::Object(body), json!({"orderNumber": "B", "amount": 99.99}));
    }

    #[test]
    fn stdin_is_the_default_body() {
        let body = body(&args(&[]), r#"{"orderNumber":"S"}"#.as_bytes()).unwrap();
        assert_eq!(body["orderNumber"], "S");
        let dash = body_of(&["--file", "-"], r#"{"x":1}"#);
        assert_eq!(dash.unwrap()["x"], 1);
    }

    fn body_of(extra: &[&str], stdin: &str) -> Result<Map<String, Value>, SendCommandError> {
        body(&args(extra), stdin.as_bytes())
    }

    #[test]
    fn bad_bodies_are_explained() {
        assert!(body_of(&[], "[1]").unwrap_err().to_string().contains("JSON object"));
        assert!(body_of(&[], "{").unwrap_err().to_string().contains("not JSON"));
        assert!(body_of(&["--set", "novalue"], "").unwrap_err().to_string().contains("FIELD=VALUE"));
        assert!(body_of(&["--json", "amount=abc"], "").unwrap_err().to_string().contains("--json amount"));
    }
}
