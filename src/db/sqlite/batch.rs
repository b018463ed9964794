//! One batch of rotations in one transaction: a conditional `UPDATE ... RETURNING` of every
//! presented token that is live, a `SELECT` of their users, and one multi-row `INSERT` of the
//! successors, whatever the batch's size; the last two only when there is something to do.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{CaseStatement, Expr},
};
use uuid::Uuid;

use super::Rotation;
use crate::{
    db::{
        db_error,
        entities::{refresh_tokens, users},
        tokens::{Lineage, StoredRefreshToken, insert_tokens, live, stored, token_row},
        users::to_user,
    },
    error::AuthError,
};

/// For each rotation, in its order: the token it consumed, when that token was live. Of several
/// presenting one token, only the first consumes it.
pub(super) async fn rotate_together(
    conn: &DatabaseConnection,
    rotations: &[Rotation],
) -> Result<Vec<Option<StoredRefreshToken>>, AuthError> {
    let Some(latest) = rotations.iter().map(|rotation| rotation.now).max() else {
        return Ok(Vec::new());
    };
    let transaction = conn.begin().await.map_err(db_error)?;
    let consumed_at = rotations
        .iter()
        .fold(CaseStatement::new(), |case, rotation| {
            case.case(
                refresh_tokens::Column::TokenHash.eq(rotation.presented.as_str()),
                Expr::value(rotation.now),
            )
        });
    let hashes = rotations.iter().map(|rotation| rotation.presented.as_str());
    // Held against the latest `now` of the batch: a token that expires in between is refused, as
    // it would be a moment later.
    let consumed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, consumed_at.into())
        .filter(refresh_tokens::Column::TokenHash.is_in(hashes))
        .filter(live(latest))
        .exec_with_returning(&transaction)
        .await
        .map_err(db_error)?;
    if consumed.is_empty() {
        transaction.commit().await.map_err(db_error)?;
        return Ok(rotations.iter().map(|_| None).collect());
    }
    let user_ids: Vec<Uuid> = consumed.iter().map(|token| token.user_id).collect();
    let users: HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(user_ids))
        .all(&transaction)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    let mut parents = HashMap::with_capacity(consumed.len());
    for token in consumed {
        let user = users.get(&token.user_id).cloned().ok_or_else(|| {
            AuthError::internal(anyhow::anyhow!("a consumed token's user is missing"))
        })?;
        parents.insert(token.token_hash.clone(), stored(token, to_user(user)));
    }
    // Taken out as they are matched, so a second rotation presenting the same token finds nothing.
    let outcomes: Vec<Option<StoredRefreshToken>> = rotations
        .iter()
        .map(|rotation| parents.remove(rotation.presented.as_str()))
        .collect();
    let successors = rotations
        .iter()
        .zip(&outcomes)
        .filter_map(|(rotation, parent)| {
            let parent = parent.as_ref()?;
            Some(token_row(
                &rotation.successor,
                &Lineage::Replaces(parent),
                rotation.now,
            ))
        });
    insert_tokens(&transaction, successors).await?;
    transaction.commit().await.map_err(db_error)?;
    Ok(outcomes)
}
