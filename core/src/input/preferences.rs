//! `PUT /api/me/preferences`: a change of the caller's notification
//! preferences, every bad field named.

use serde_json::{Map, Value};

use super::FromJson;
use crate::models::{FieldError, NotificationType, PreferencesPatch, Priority};

/// A checked change of preferences: at least one known field, each valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencesUpdate(pub PreferencesPatch);

impl FromJson for PreferencesUpdate {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut patch = PreferencesPatch::default();
        let mut errors = Vec::new();
        for (key, value) in map {
            match key.as_str() {
                "toastMinPriority" => match value.as_str().and_then(Priority::parse) {
                    Some(p) => patch.toast_min_priority = Some(p),
                    None => errors.push(FieldError::new(key.as_str(), "must be one of low, medium, high, urgent")),
                },
                "mutedTypes" => match muted_types(value) {
                    Some(types) => patch.muted_types = Some(types),
                    None => {
                        errors.push(FieldError::new(key.as_str(), "must be a list of info, success, warning, error"))
                    }
                },
                "desktop" => match value.as_bool() {
                    Some(on) => patch.desktop = Some(on),
                    None => errors.push(FieldError::new(key.as_str(), "must be true or false")),
                },
                _ => errors.push(FieldError::new(key.as_str(), "is not a known field")),
            }
        }
        if errors.is_empty() && patch == PreferencesPatch::default() {
            errors.push(FieldError::new("toastMinPriority", "toastMinPriority, mutedTypes or desktop is required"));
        }
        if errors.is_empty() {
            Ok(Self(patch))
        } else {
            Err(errors)
        }
    }
}

/// A list of type names (at most the four, each once) in a fixed order.
fn muted_types(value: &Value) -> Option<Vec<NotificationType>> {
    let items = value.as_array().filter(|a| a.len() <= NotificationType::ALL.len() * 2)?;
    let named: Option<Vec<NotificationType>> =
        items.iter().map(|v| v.as_str().and_then(NotificationType::parse)).collect();
    let named = named?;
    Some(NotificationType::ALL.into_iter().filter(|t| named.contains(t)).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<PreferencesUpdate, Vec<FieldError>> {
        PreferencesUpdate::from_json(v.as_object().unwrap())
    }

    #[test]
    fn each_field_is_checked_and_named() {
        let ok = parse(json!({"toastMinPriority": "high", "mutedTypes": ["error", "info", "info"], "desktop": true}));
        let patch = ok.unwrap().0;
        assert_eq!(patch.toast_min_priority, Some(Priority::High));
        assert_eq!(patch.muted_types, Some(vec![NotificationType::Info, NotificationType::Error]));
        assert_eq!(patch.desktop, Some(true));
        let bad = parse(json!({"toastMinPriority": "max", "mutedTypes": "error", "desktop": 1, "x": 0})).unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields.len(), 4, "{fields:?}");
        assert_eq!(parse(json!({})).unwrap_err()[0].field, "toastMinPriority");
        assert!(parse(json!({"mutedTypes": vec!["info"; 20]})).is_err(), "a huge list is refused");
        assert!(parse(json!({"mutedTypes": []})).is_ok(), "muting nothing is a change");
    }
}
