//! A reader's unread count on MongoDB, in one command: an aggregate on
//! `notifications` that counts the stored ones unread by default after the
//! reader's mark, then brings the reader's exceptions from
//! `notification_states` and their mark as it is now (`$unionWith`, MongoDB
//! 4.4 or later). The rules are those of [`crate::store::reader_state`].

use app::models::UserId;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{
    docs::{corrupt, whole_number},
    notifications::{mark_from, mark_id, reader_key, seq_of, state_from, viewer, CHANGE_ATTEMPTS},
    query::all,
    MongoStore,
};
use crate::store::{reader_state::Mark, StoreError, StoreResult};

impl MongoStore {
    /// The reader's unread count after their `mark`, in one command: the
    /// stored notifications that count by default (`$count`), then, from
    /// `notification_states` (`$unionWith`), the reader's exceptions that
    /// count differently (after the mark, or unread), then the reader's mark
    /// as it is now. Should the mark have moved since it was read (a
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
            let pipeline = [
                doc! {"$match": stored},
                doc! {"$count": "n"},
                doc! {"$unionWith": {"coll": self.notification_states.name(), "pipeline": [{"$match": exceptions}]}},
                doc! {"$unionWith": {"coll": self.reader_marks.name(), "pipeline": [{"$match": {"_id": &own}}]}},
            ];
            let docs = all(self.notifications.aggregate(pipeline), |d| Ok(d.clone())).await?;
            let counted = unread_from(&docs, &own, mark.as_ref())?;
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

/// Reads the unread count's aggregate, taken with `mark`: the `$count`
/// document (no `_id`; real MongoDB gives none when nothing counts), the
/// reader's mark (`_id` `own`), and their exceptions (every other document).
fn unread_from(docs: &[Document], own: &str, mark: Option<&Mark>) -> StoreResult<Counted> {
    let (mut base, mut now, mut adjust) = (0, None, 0);
    for d in docs {
        match d.get("_id") {
            None => base = whole_number(d.get("n")).ok_or_else(|| corrupt("unread count"))?,
            Some(Bson::String(id)) if id == own => now = mark_from(d),
            Some(_) => {
                let by_default =
                    d.get_bool("baseLive").unwrap_or(false) && mark.is_none_or(|m| seq_of(d) > m.read_through);
                adjust += i64::from(state_from(d).0.counts()) - i64::from(by_default);
            }
        }
    }
    Ok(Counted { unread: (base + adjust).max(0) as u64, mark: now })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(read_through: i64) -> Mark {
        Mark { read_through, read_at: app::models::Timestamp::from_unix_millis(0) }
    }

    fn state(seq: i64, base_live: bool, is_read: bool) -> Document {
        doc! {"_id": format!("t:u:{seq}"), "seq": seq, "baseLive": base_live, "isRead": is_read, "isDismissed": false, "v": 1_i64}
    }

    #[test]
    fn nothing_counted_is_no_count_document_or_a_zero() {
        let none = unread_from(&[], "t:u", None).unwrap();
        assert_eq!((none.unread, none.mark), (0, None));
        let zero = unread_from(&[doc! {"n": 0}], "t:u", None).unwrap();
        assert_eq!(zero.unread, 0);
    }

    #[test]
    fn exceptions_move_the_count_and_the_mark_is_told_apart() {
        let now = doc! {"_id": "t:u", "readThrough": 7_i64, "readAt": mongodb::bson::DateTime::from_millis(0)};
        let docs = [doc! {"n": 3_i64}, state(9, true, true), state(8, false, false), now];
        let counted = unread_from(&docs, "t:u", Some(&mark(5))).unwrap();
        // 3 by default, one of them read by the reader, one read by default made unread.
        assert_eq!(counted.unread, 3);
        assert_eq!(counted.mark.map(|m| m.read_through), Some(7));
        // Before the mark (seq 4 ≤ 5) a live one was not counted by default: reading it changes nothing.
        let docs = [doc! {"n": 1}, state(4, true, true)];
        assert_eq!(unread_from(&docs, "t:u", Some(&mark(5))).unwrap().unread, 1);
    }

    #[test]
    fn a_count_that_is_not_a_whole_number_is_corrupt() {
        assert!(unread_from(&[doc! {"n": "3"}], "t:u", None).is_err());
    }
}
