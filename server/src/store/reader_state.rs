//! One reader's state of one notification, the rules both stores share: what
//! a reader starts from (their last mark-all-read, else the flags the
//! notification was stored with), what a change does to it, and how it shows
//! on the notification the reader is sent.
//!
//! Stores keep a state only for the notifications a reader changed one by one
//! (the exceptions); everything else follows from the reader's [`Mark`], so
//! "mark all as read" writes one mark however many notifications there are.

use app::models::{Notification, NotificationPatch, Timestamp};

/// A reader's last mark-all-read: every notification stored up to `read_through`
/// (the store's sequence number) is read for them, since `read_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub read_through: i64,
    pub read_at: Timestamp,
}

/// A reader's state of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderState {
    pub is_read: bool,
    pub read_at: Option<Timestamp>,
    pub is_dismissed: bool,
    pub snoozed_until: Option<Timestamp>,
}

impl ReaderState {
    /// The state `n` shows (a notification as its reader sees it).
    pub fn of(n: &Notification) -> Self {
        Self { is_read: n.is_read, read_at: n.read_at, is_dismissed: n.is_dismissed, snoozed_until: n.snoozed_until }
    }

    /// The state of `n` (with the flags it was stored with, sequence number
    /// `seq`) for a reader who never changed it, given their last mark.
    pub fn default_for(n: &Notification, seq: i64, mark: Option<&Mark>) -> Self {
        let marked = mark.filter(|m| seq <= m.read_through);
        let (is_read, read_at) = match (n.is_read, marked) {
            (true, _) => (true, n.read_at),
            (false, Some(m)) => (true, Some(m.read_at)),
            (false, None) => (false, None),
        };
        Self { is_read, read_at, is_dismissed: n.is_dismissed, snoozed_until: None }
    }

    /// The state after `patch` at `at`: reading keeps the first read time,
    /// unreading clears it; waking a snooze brings the notification back unread.
    pub fn apply(mut self, patch: &NotificationPatch, at: Timestamp) -> Self {
        match patch.snoozed_until {
            Some(Some(until)) => self.snoozed_until = Some(until),
            Some(None) if self.snoozed_until.is_some() => {
                self.snoozed_until = None;
                (self.is_read, self.read_at) = (false, None);
            }
            _ => {}
        }
        match patch.is_read {
            Some(true) if !self.is_read => (self.is_read, self.read_at) = (true, Some(at)),
            Some(false) => (self.is_read, self.read_at) = (false, None),
            _ => {}
        }
        if let Some(dismissed) = patch.is_dismissed {
            self.is_dismissed = dismissed;
        }
        self
    }

    /// Whether it counts in the reader's unread count.
    pub fn counts(&self) -> bool {
        !self.is_read && !self.is_dismissed && self.snoozed_until.is_none()
    }

    /// `n` as this reader sees it.
    pub fn show_on(&self, n: &mut Notification) {
        n.is_read = self.is_read;
        n.read_at = self.read_at;
        n.is_dismissed = self.is_dismissed;
        n.snoozed_until = self.snoozed_until;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn stored(is_read: bool, is_dismissed: bool) -> Notification {
        serde_json::from_value(serde_json::json!({
            "id": "0123456789abcdef01234567", "tenantId": "t", "title": "T", "message": "M",
            "type": "info", "priority": "low", "isRead": is_read, "isDismissed": is_dismissed,
            "readAt": if is_read { Some("2026-01-01T00:00:00.000Z") } else { None },
            "createdAt": "2026-01-01T00:00:00.000Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_reader_starts_from_the_stored_flags_then_their_mark() {
        let mark = Mark { read_through: 10, read_at: at("2026-02-01T00:00:00Z") };
        let fresh = ReaderState::default_for(&stored(false, false), 11, Some(&mark));
        assert!(fresh.counts());
        let marked = ReaderState::default_for(&stored(false, false), 10, Some(&mark));
        assert_eq!((marked.is_read, marked.read_at), (true, Some(mark.read_at)));
        // Flags stored before per-reader state hold for every reader, first read time kept.
        let old = ReaderState::default_for(&stored(true, true), 3, None);
        assert_eq!((old.is_read, old.is_dismissed, old.read_at), (true, true, Some(at("2026-01-01T00:00:00Z"))));
    }

    #[test]
    fn changes_keep_the_first_read_and_a_wake_comes_back_unread() {
        let t1 = at("2026-03-01T00:00:00Z");
        let t2 = at("2026-03-02T00:00:00Z");
        let s = ReaderState::default_for(&stored(false, false), 1, None);
        let read = s.apply(&NotificationPatch { is_read: Some(true), ..Default::default() }, t1);
        let again = read.apply(&NotificationPatch { is_read: Some(true), ..Default::default() }, t2);
        assert_eq!(again.read_at, Some(t1));
        let snoozed = again.apply(&NotificationPatch { snoozed_until: Some(Some(t2)), ..Default::default() }, t1);
        assert!(!snoozed.counts());
        let woken = snoozed.apply(&NotificationPatch { snoozed_until: Some(None), ..Default::default() }, t2);
        assert!(woken.counts() && woken.read_at.is_none());
        // Waking what is not snoozed changes nothing.
        assert_eq!(again.apply(&NotificationPatch { snoozed_until: Some(None), ..Default::default() }, t2), again);
    }
}
