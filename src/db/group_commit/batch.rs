//! One batch of rotations in one transaction: a conditional `UPDATE ... RETURNING` for the tokens
//! known by id, one for the tokens presented by hash, a `SELECT` of the users of the latter and one
//! multi-row `INSERT` of every successor, whatever the batch's size; each only when it has work.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
    sea_query::{CaseStatement, Expr, Query},
};
use uuid::Uuid;

use super::{KnownRotation, PresentedRotation};
use crate::{
    db::{
        NewRefreshToken, RotatedSession, db_error,
        entities::{refresh_tokens, users},
        sessions,
        users::to_user,
    },
    error::AuthError,
};

/// What became of each rotation of a batch, in its order.
pub(super) struct Outcomes {
    pub known: Vec<bool>,
    pub presented: Vec<Option<RotatedSession>>,
}

/// Each rotation is decided alone by a conditional update, as if the rotations came one by one:
/// those known by id first, then those presented by hash. A token consumed before, or earlier in
/// the same batch, is not consumed again.
pub(super) async fn rotate_together(
    conn: &DatabaseConnection,
    known: &[KnownRotation],
    presented: &[PresentedRotation],
) -> Result<Outcomes, AuthError> {
    let transaction = conn.begin().await.map_err(db_error)?;
    let consumed_by_id = consume_known(&transaction, known).await?;
    let mut settled = HashSet::with_capacity(consumed_by_id.len());
    let known_outcomes: Vec<bool> = known
        .iter()
        .map(|rotation| {
            consumed_by_id.contains(&rotation.current) && settled.insert(rotation.current)
        })
        .collect();
    let rotated_by_hash = consume_presented(&transaction, presented).await?;
    let known_successors = known
        .iter()
        .zip(&known_outcomes)
        .filter(|(_, rotated)| **rotated)
        .map(|(rotation, _)| (&rotation.successor, rotation.now));
    let presented_successors = presented
        .iter()
        .zip(&rotated_by_hash)
        .filter_map(|(rotation, rotated)| Some((&rotated.as_ref()?.1, rotation.now)));
    let rows: Vec<refresh_tokens::ActiveModel> = known_successors
        .chain(presented_successors)
        .map(|(successor, now)| sessions::active_model(successor, now))
        .collect();
    if !rows.is_empty() {
        refresh_tokens::Entity::insert_many(rows)
            .exec_without_returning(&transaction)
            .await
            .map_err(db_error)?;
    }
    transaction.commit().await.map_err(db_error)?;
    Ok(Outcomes {
        known: known_outcomes,
        presented: rotated_by_hash
            .into_iter()
            .map(|rotated| rotated.map(|(session, _)| session))
            .collect(),
    })
}

/// The ids of the tokens of `known` that were still unconsumed, and are consumed now.
async fn consume_known(
    transaction: &DatabaseTransaction,
    known: &[KnownRotation],
) -> Result<HashSet<Uuid>, AuthError> {
    if known.is_empty() {
        return Ok(HashSet::new());
    }
    let revoked_at = known.iter().fold(CaseStatement::new(), |case, rotation| {
        case.case(
            refresh_tokens::Column::Id.eq(rotation.current),
            Expr::value(rotation.now),
        )
    });
    let consumed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, revoked_at.into())
        .filter(refresh_tokens::Column::Id.is_in(known.iter().map(|rotation| rotation.current)))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec_with_returning(transaction)
        .await
        .map_err(db_error)?;
    Ok(consumed.into_iter().map(|token| token.id).collect())
}

/// For each rotation of `presented`, in its order: its session and successor when its token was
/// live (unconsumed, unexpired, its user active) and is consumed now. Of several presenting one
/// token, only the first.
async fn consume_presented(
    transaction: &DatabaseTransaction,
    presented: &[PresentedRotation],
) -> Result<Vec<Option<(RotatedSession, NewRefreshToken)>>, AuthError> {
    let Some(latest) = presented.iter().map(|rotation| rotation.now).max() else {
        return Ok(Vec::new());
    };
    let revoked_at = presented
        .iter()
        .fold(CaseStatement::new(), |case, rotation| {
            case.case(
                refresh_tokens::Column::TokenHash.eq(rotation.presented.as_str()),
                Expr::value(rotation.now),
            )
        });
    let active_users = Query::select()
        .column(users::Column::Id)
        .from(users::Entity)
        .and_where(users::Column::IsActive.eq(true))
        .to_owned();
    let hashes = presented.iter().map(|rotation| rotation.presented.as_str());
    // Held against the latest `now` of the batch: a token that expires in between goes the long
    // way, which looks again with its own.
    let consumed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, revoked_at.into())
        .filter(refresh_tokens::Column::TokenHash.is_in(hashes))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(latest))
        .filter(refresh_tokens::Column::UserId.in_subquery(active_users))
        .exec_with_returning(transaction)
        .await
        .map_err(db_error)?;
    if consumed.is_empty() {
        return Ok(presented.iter().map(|_| None).collect());
    }
    let user_ids: HashSet<Uuid> = consumed.iter().map(|parent| parent.user_id).collect();
    let users: HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(user_ids))
        .all(transaction)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    let mut parents: HashMap<String, refresh_tokens::Model> = consumed
        .into_iter()
        .map(|parent| (parent.token_hash.clone(), parent))
        .collect();
    presented
        .iter()
        .map(|rotation| {
            // Taken out, so a second rotation presenting the same token finds nothing.
            let Some(parent) = parents.remove(rotation.presented.as_str()) else {
                return Ok(None);
            };
            let user = users.get(&parent.user_id).cloned().ok_or_else(|| {
                AuthError::internal(anyhow::anyhow!("a consumed token's user is missing"))
            })?;
            let successor = rotation.successor.succeeding(&parent);
            let session = RotatedSession {
                user: to_user(user),
                token_family: parent.token_family,
                successor_expires_at: successor.expires_at,
            };
            Ok(Some((session, successor)))
        })
        .collect()
}
