//! One-time account links (password reset, invitation): random tokens of which only a SHA-256
//! hash is stored, with an expiry, consumed once.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::crypto;
use crate::db::schema::{account_tokens, users};
use crate::db::types::TokenPurpose;
use crate::db::{DbConn, now};
use crate::tenancy::user::User;

/// How long a reset link lives.
pub const RESET_TTL: TimeDelta = TimeDelta::hours(1);
/// How long an invitation link lives.
pub const INVITE_TTL: TimeDelta = TimeDelta::days(7);

/// Why a link cannot be used; the codes are i18n keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No such link.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Already used (or replaced by a newer link).
    Used,
}

impl TokenProblem {
    /// The message key.
    pub fn message_key(self) -> &'static str {
        match self {
            TokenProblem::Invalid => "token.invalid",
            TokenProblem::Expired => "token.expired",
            TokenProblem::Used => "token.used",
        }
    }
}

/// Creates a link for `user_id`, retiring earlier unused links of the same purpose.
pub fn issue(conn: &mut DbConn, user_id: i64, purpose: TokenPurpose) -> QueryResult<String> {
    let t = now();
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(t)))
    .execute(conn)?;
    let token = crypto::random_token();
    let ttl = match purpose {
        TokenPurpose::Reset => RESET_TTL,
        TokenPurpose::Invite => INVITE_TTL,
    };
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(crypto::token_hash(&token)),
            account_tokens::expires_at.eq(t + ttl),
            account_tokens::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Looks a link up without using it: the user it belongs to, or why it is unusable.
pub fn check(
    conn: &mut DbConn,
    token: &str,
    purpose: TokenPurpose,
) -> QueryResult<Result<(i64, User), TokenProblem>> {
    let row: Option<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)> = account_tokens::table
        .filter(account_tokens::token_hash.eq(crypto::token_hash(token)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((
            account_tokens::id,
            account_tokens::user_id,
            account_tokens::expires_at,
            account_tokens::used_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, user_id, expires_at, used_at)) = row else {
        return Ok(Err(TokenProblem::Invalid));
    };
    if used_at.is_some() {
        return Ok(Err(TokenProblem::Used));
    }
    if expires_at < now() {
        return Ok(Err(TokenProblem::Expired));
    }
    let user: Option<User> = users::table
        .find(user_id)
        .select(User::as_select())
        .first(conn)
        .optional()?;
    match user {
        Some(u) if u.active => Ok(Ok((id, u))),
        _ => Ok(Err(TokenProblem::Invalid)),
    }
}

/// Marks a link used.
pub fn consume(conn: &mut DbConn, token_id: i64) -> QueryResult<()> {
    diesel::update(account_tokens::table.find(token_id))
        .set(account_tokens::used_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}
