//! A user's notification preferences (`GET/PUT /api/me/preferences`): how new
//! notifications interrupt them. They never change what is in the inbox or
//! the count.

use serde::{Deserialize, Serialize};

use super::{Notification, NotificationType, Priority};

/// How a user is interrupted by new notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// The lowest priority that shows a toast (or a desktop notification).
    pub toast_min_priority: Priority,
    /// Types that never toast.
    pub muted_types: Vec<NotificationType>,
    /// Desktop notifications while the page is hidden (the browser asks permission too).
    pub desktop: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { toast_min_priority: Priority::Low, muted_types: Vec::new(), desktop: false }
    }
}

impl Preferences {
    /// Whether `n` may interrupt: a toast, and a desktop notification when those are on.
    pub fn interrupts(&self, n: &Notification) -> bool {
        n.priority >= self.toast_min_priority && !self.muted_types.contains(&n.kind)
    }

    /// These preferences with `patch`'s fields.
    pub fn with(mut self, patch: &PreferencesPatch) -> Self {
        if let Some(p) = patch.toast_min_priority {
            self.toast_min_priority = p;
        }
        if let Some(types) = &patch.muted_types {
            self.muted_types = types.clone();
        }
        if let Some(desktop) = patch.desktop {
            self.desktop = desktop;
        }
        self
    }
}

/// A change of some preferences (the others stay).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesPatch {
    pub toast_min_priority: Option<Priority>,
    /// Each type once, in the order of [`NotificationType::ALL`].
    pub muted_types: Option<Vec<NotificationType>>,
    pub desktop: Option<bool>,
}
