//! The shared query helpers: each runs one driver action (`find_one`, `find`,
//! `update_one`, …, built by the caller with its filter, sort and options),
//! maps its error once and reads what it answers: the document found
//! ([`one`]), every document found ([`all`]), whether an update matched or
//! changed one ([`matched`], [`modified`]), or the raw result ([`run`]). Plus
//! the idempotent insert ([`insert_once`]) that multi-document writes rely on.

use std::future::IntoFuture;

use futures_util::TryStreamExt;
use mongodb::{
    action::Find,
    bson::{doc, Document},
    error::Result as DriverResult,
    results::UpdateResult,
    Collection, Cursor,
};

use super::{is_duplicate, map_err};
use crate::store::StoreResult;

/// Runs a driver action, mapping its error.
pub(super) async fn run<R>(action: impl IntoFuture<Output = DriverResult<R>>) -> StoreResult<R> {
    action.await.map_err(map_err)
}

/// The document a `find_one` finds, read by `from`.
pub(super) async fn one<T>(
    find: impl IntoFuture<Output = DriverResult<Option<Document>>>,
    from: impl FnOnce(&Document) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    run(find).await?.as_ref().map(from).transpose()
}

/// Whether a `find_one` finds a document.
pub(super) async fn exists(find: impl IntoFuture<Output = DriverResult<Option<Document>>>) -> StoreResult<bool> {
    Ok(run(find).await?.is_some())
}

/// Every document a `find` finds, in its order, read by `from`.
pub(super) async fn all<T>(
    find: impl IntoFuture<Output = DriverResult<Cursor<Document>>>,
    from: impl FnMut(&Document) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let docs: Vec<Document> = run(find).await?.try_collect().await.map_err(map_err)?;
    docs.iter().map(from).collect()
}

/// The newest `limit` documents of `coll` matching `filter`, newest first (a `find` for [`all`]).
pub(super) fn latest(coll: &Collection<Document>, filter: Document, limit: u32) -> Find<'_, Document> {
    coll.find(filter).sort(doc! {"createdAt": -1, "_id": -1}).limit(i64::from(limit))
}

/// Whether an update matched a document.
pub(super) async fn matched(update: impl IntoFuture<Output = DriverResult<UpdateResult>>) -> StoreResult<bool> {
    Ok(run(update).await?.matched_count > 0)
}

/// Whether an update changed a document.
pub(super) async fn modified(update: impl IntoFuture<Output = DriverResult<UpdateResult>>) -> StoreResult<bool> {
    Ok(run(update).await?.modified_count > 0)
}

/// Inserts `doc` unless (tenantId, sourceKey) exists: idempotent. True when inserted.
pub(super) async fn insert_once(coll: &Collection<Document>, doc: Document) -> StoreResult<bool> {
    let filter = doc! {"tenantId": doc.get("tenantId").cloned(), "sourceKey": doc.get("sourceKey").cloned()};
    match coll.update_one(filter, doc! {"$setOnInsert": doc}).upsert(true).await {
        Ok(r) => Ok(r.upserted_id.is_some()),
        // Two upserts racing on the unique index: the other one won.
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(map_err(e)),
    }
}
