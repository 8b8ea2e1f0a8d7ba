//! Reading a JSON object field by field: every bad field is named, with a
//! message the caller can act on. Money is parsed exactly (never through f64).

use serde_json::{Map, Value};

use crate::models::{FieldError, Role};

/// Longest text field, unless a field says otherwise.
pub const MAX_TEXT: usize = 500;
/// Longest URL a notification may link to.
pub const MAX_URL: usize = 2048;

/// Parses a JSON object body; the error is the parser's message.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Collects field errors while reading a JSON object.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    pub(crate) errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self { map, errors: Vec::new() }
    }

    /// The raw value of `field` (absent and `null` alike are `None`).
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// Whether an error was found so far.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors found, or `ok` when there were none.
    pub fn finish<T>(self, ok: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(ok())
        } else {
            Err(self.errors)
        }
    }

    pub fn fail(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError::new(field, message));
    }

    /// `metadata`: an object, `{}` when absent.
    pub fn metadata(&mut self) -> Value {
        match self.map.get("metadata") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                self.fail("metadata", "must be an object");
                Value::Null
            }
        }
    }

    /// A text field that must be one of `allowed` (by `parse`), or `default` when absent.
    pub fn one_of<T: Copy>(
        &mut self,
        field: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
        default: Option<T>,
    ) -> Option<T> {
        match self.text(field, default.is_none()) {
            None => default,
            Some(s) => parse(&s).or_else(|| {
                self.fail(field, &format!("must be one of {allowed}"));
                None
            }),
        }
    }

    /// An optional ISO 4217 currency code (three letters), upper case.
    pub fn currency(&mut self, field: &str) -> Option<String> {
        match self.text(field, false) {
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
            Some(_) => {
                self.fail(field, "must be a 3-letter ISO 4217 code");
                None
            }
            None => None,
        }
    }

    /// An optional money amount (≥ 0) in minor units (two decimal places).
    pub fn money(&mut self, field: &str) -> Option<i64> {
        self.money_in(field, 2)
    }

    /// An optional money amount (≥ 0) in minor units of a currency with `digits` decimal places.
    pub fn money_in(&mut self, field: &str, digits: u32) -> Option<i64> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => match crate::models::money::parse_amount(v, digits) {
                Ok(m) if m < 0 => {
                    self.fail(field, "must be at least 0");
                    None
                }
                Ok(m) => Some(m),
                Err(msg) => {
                    self.fail(field, msg);
                    None
                }
            },
        }
    }

    /// A trimmed text field of at most [`MAX_TEXT`] characters; blank is absent.
    pub fn text(&mut self, field: &str, required: bool) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(field, "is required");
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.fail(field, "must not be empty");
                None
            }
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT => {
                self.fail(field, &format!("must be at most {MAX_TEXT} characters"));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Some(_) => {
                self.fail(field, "must be a string");
                None
            }
        }
    }

    /// `true` / `false`, or absent.
    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.map.get(field) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(field, "must be true or false");
                None
            }
        }
    }
}

/// The first field of `map` not in `known`, as the error that names it.
pub fn unknown_field(map: &Map<String, Value>, known: &[&str], message: &str) -> Result<(), Vec<FieldError>> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(vec![FieldError::new(k.as_str(), message)]),
        None => Ok(()),
    }
}

/// A string field read as-is: absent or `null` is empty, anything but a string is refused.
pub fn plain_text<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, Vec<FieldError>> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(vec![FieldError::new(name, "must be a string")]),
    }
}

/// A role named by its text (`member`, `admin`, `owner`).
pub fn parse_role(text: &str) -> Result<Role, Vec<FieldError>> {
    Role::parse(text).ok_or_else(|| vec![FieldError::new("role", "must be member, admin or owner")])
}

/// Parses a money amount exactly into minor units (two decimal places).
///
/// JSON numbers are read through their shortest decimal text, never through
/// floating-point arithmetic: `99.99` becomes `9999`.
pub fn parse_money(v: &Value) -> Result<i64, &'static str> {
    crate::models::money::parse_amount(v, 2)
}

/// A plausible email address: one `@`, a non-empty local part, a dotted domain.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// A link a notification may carry: a path on the dashboard (`/orders/1`) or an https URL.
pub fn is_safe_action_url(url: &str) -> bool {
    if url.len() > MAX_URL || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix('/') {
        // `//host` and `/\host` leave the site.
        return !rest.starts_with('/') && !rest.starts_with('\\');
    }
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@')
    })
}

/// Whether `s` has the shape of an id (the rule lives with the models).
pub use crate::models::is_id;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_money(&json!(99.99)), Ok(9999));
        assert_eq!(parse_money(&json!(0.1)), Ok(10));
        assert_eq!(parse_money(&json!(50)), Ok(5000));
        assert_eq!(parse_money(&json!(50.0)), Ok(5000));
        assert_eq!(parse_money(&json!("19.90")), Ok(1990));
        assert_eq!(parse_money(&json!(1234567.89)), Ok(123456789));
        assert_eq!(parse_money(&json!(-1.5)), Ok(-150));
        assert!(parse_money(&json!(0.001)).is_err());
        assert!(parse_money(&json!("abc")).is_err());
        assert!(parse_money(&json!("1e3")).is_err());
        assert!(parse_money(&json!(true)).is_err());
        assert!(parse_money(&json!(1e300)).is_err());
    }

    #[test]
    fn emails() {
        assert!(is_email("john@example.com"));
        assert!(!is_email("john@"));
        assert!(!is_email("john.example.com"));
        assert!(!is_email("a@b@c.com"));
        assert!(!is_email("a b@c.com"));
    }

    #[test]
    fn action_urls_stay_on_safe_ground() {
        for good in ["/orders", "/products/xyz?tab=stock#top", "https://shop.example.com/admin"] {
            assert!(is_safe_action_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.com",
            "/\\evil.com",
            "http://shop.example.com",
            "https://",
            "https://u@evil.com",
            "orders",
            "/a b",
            "data:text/html,x",
        ] {
            assert!(!is_safe_action_url(bad), "{bad}");
        }
    }
}
