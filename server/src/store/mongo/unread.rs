//! A reader's unread count on MongoDB, in one command: an aggregate on
//! `notifications` that counts the stored ones unread by default after the
//! reader's mark, then brings the reader's exceptions from
//! `notification_states` and their mark as it is now (`$unionWith`, MongoDB
//! 4.4 or later). The rules are those of [`crate::store::reader_state`].

use app::models::UserId;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{
    docs::{corrupt, whole_number},
    notifications::{mark_from, mark_id, reader_key, viewer, CHANGE_ATTEMPTS},
    query::all,
    MongoStore,
};
use crate::store::{reader_state::Mark, StoreError, StoreResult};

impl MongoStore {
    /// The reader's unread count after their `mark`, in one command: the
    /// stored notifications that count by default (`$count`), then, from
    /// `notification_states` (`$unionWith`), what the reader's exceptions
    /// (after the mark, or unread) change in it, summed by the server
    /// (`$group`: one document however many there are), then the reader's
    /// mark as it is now. Should the mark have moved since it was read (a
    /// mark-all-read meanwhile), the count is taken again with it.
    pub(super) async fn unread_with(
        &self,
        t: &ObjectId,
        reader: Option<&UserId>,
        mark: Option<&Mark>,
    ) -> StoreResult<u64> {
        let own = mark_id(t, &reader_key(reader));
        let mut mark = mark.copied();
        for _ in 0..CHANGE_ATTEMPTS {
            let mut stored = doc! {"tenantId": t, "userId": viewer(reader), "isRead": false, "isDismissed": false};
            let mut exceptions = doc! {"tenantId": t, "reader": reader_key(reader)};
            if let Some(m) = &mark {
                stored.insert("seq", doc! {"$gt": m.read_through});
                exceptions.insert("$or", vec![doc! {"seq": {"$gt": m.read_through}}, doc! {"isRead": false}]);
            }
            let adjusted = [
                doc! {"$match": exceptions},
                doc! {"$group": {"_id": Bson::Null, "adjust": {"$sum": adjust(mark.as_ref())}}},
            ];
            let pipeline = [
                doc! {"$match": stored},
                doc! {"$count": "n"},
                doc! {"$unionWith": {"coll": self.notification_states.name(), "pipeline": adjusted.as_slice()}},
                doc! {"$unionWith": {"coll": self.reader_marks.name(), "pipeline": [{"$match": {"_id": &own}}]}},
            ];
            let docs = all(self.notifications.aggregate(pipeline), |d| Ok(d.clone())).await?;
            let counted = unread_from(&docs, &own)?;
            if counted.mark.map(|m| m.read_through) == mark.map(|m| m.read_through) {
                return Ok(counted.unread);
            }
            mark = counted.mark;
        }
        Err(StoreError::Unavailable("the reader's mark keeps moving; retry".into()))
    }
}

/// What the unread count's aggregate answered (see `MongoStore::unread_with`).
struct Counted {
    unread: u64,
    /// The reader's mark as it is now.
    mark: Option<Mark>,
}

/// What one exception changes in the count, as the server computes it: 1 if
/// it counts now (unread, not dismissed, not snoozed), minus 1 if its
/// notification counted by default after `mark` (see `ReaderState::counts`
/// and `baseLive`).
fn adjust(mark: Option<&Mark>) -> Document {
    let counts = doc! {"$and": [
        {"$ne": ["$isRead", true]},
        {"$ne": ["$isDismissed", true]},
        {"$eq": [{"$ifNull": ["$snoozedUntil", Bson::Null]}, Bson::Null]},
    ]};
    let mut by_default = vec![Bson::from(doc! {"$eq": ["$baseLive", true]})];
    if let Some(m) = mark {
        by_default.push(doc! {"$gt": ["$seq", m.read_through]}.into());
    }
    doc! {"$subtract": [{"$cond": [counts, 1, 0]}, {"$cond": [{"$and": by_default}, 1, 0]}]}
}

/// Reads the unread count's aggregate: the `$count` document (no `_id`),
/// the exceptions' sum (`_id` null), the reader's mark (`_id` `own`). Real
/// MongoDB gives no `$count` or `$group` document when nothing was there.
fn unread_from(docs: &[Document], own: &str) -> StoreResult<Counted> {
    let (mut base, mut now, mut adjust) = (0, None, 0);
    for d in docs {
        match d.get("_id") {
            None => base = whole_number(d.get("n")).ok_or_else(|| corrupt("unread count"))?,
            Some(Bson::Null) => adjust = whole_number(d.get("adjust")).ok_or_else(|| corrupt("unread adjustment"))?,
            Some(Bson::String(id)) if id == own => now = mark_from(d),
            Some(_) => return Err(corrupt("unread count part")),
        }
    }
    Ok(Counted { unread: (base + adjust).max(0) as u64, mark: now })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_counted_is_no_document_or_zeros() {
        let none = unread_from(&[], "t:u").unwrap();
        assert_eq!((none.unread, none.mark), (0, None));
        let zeros = unread_from(&[doc! {"n": 0}, doc! {"_id": Bson::Null, "adjust": 0}], "t:u").unwrap();
        assert_eq!(zeros.unread, 0);
    }

    #[test]
    fn the_exceptions_move_the_count_and_the_mark_is_told_apart() {
        let now = doc! {"_id": "t:u", "readThrough": 7_i64, "readAt": mongodb::bson::DateTime::from_millis(0)};
        let docs = [doc! {"n": 3_i64}, doc! {"_id": Bson::Null, "adjust": -1}, now];
        let counted = unread_from(&docs, "t:u").unwrap();
        assert_eq!(counted.unread, 2);
        assert_eq!(counted.mark.map(|m| m.read_through), Some(7));
        // Never below zero.
        assert_eq!(unread_from(&[doc! {"_id": Bson::Null, "adjust": -2_i64}], "t:u").unwrap().unread, 0);
    }

    #[test]
    fn anything_else_is_corrupt() {
        assert!(unread_from(&[doc! {"n": "3"}], "t:u").is_err());
        assert!(unread_from(&[doc! {"_id": Bson::Null, "adjust": 1.5}], "t:u").is_err());
        assert!(unread_from(&[doc! {"_id": "t:u:x", "seq": 1}], "t:u").is_err());
    }
}
