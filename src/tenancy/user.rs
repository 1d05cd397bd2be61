//! Member accounts (`users`): lookup, creation, validation of login IDs, e-mails and passwords.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::validation::Report;
use crate::db::schema::users;
use crate::db::search::{contains_pattern, lower};
use crate::db::types::UserId;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::Lang;

/// A member of the organization.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Key.
    pub id: i64,
    /// Login ID (unique).
    pub login: String,
    /// Display name.
    pub name: String,
    /// E-mail (unique, lower-cased).
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// UI language code.
    pub ui_lang: String,
    /// Argon2id PHC string; `None` until an invited member sets a password.
    pub password_hash: Option<String>,
    /// Organization administrator.
    pub is_org_admin: bool,
    /// Deactivated members cannot sign in.
    pub active: bool,
    /// Phone-server login ID (unique).
    pub cti_id: Option<String>,
    /// Phone extension (unique).
    pub cti_no: Option<String>,
    /// Last password change (ends older sessions).
    pub password_changed_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// What is needed to create a member.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login ID.
    pub login: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// UI language.
    pub ui_lang: Lang,
    /// Password, or `None` for an invitation.
    pub password: Option<String>,
    /// Organization administrator.
    pub is_org_admin: bool,
}

impl User {
    /// By id.
    pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
        users::table
            .find(id.get())
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// By login ID.
    pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::login.eq(login.trim()))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// By e-mail (case-insensitive: e-mails are stored lower-cased).
    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email.trim().to_lowercase()))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// The UI language.
    pub fn lang(&self) -> Lang {
        Lang::parse(&self.ui_lang).unwrap_or_default()
    }

    /// Whether the member has set a password (accepted their invitation).
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }

    /// Counts organization administrators who are active.
    pub fn count_org_admins(conn: &mut DbConn) -> QueryResult<i64> {
        users::table
            .filter(users::is_org_admin.eq(true))
            .filter(users::active.eq(true))
            .count()
            .get_result(conn)
    }

    /// Searches members by name, login or e-mail, case-insensitively on both backends.
    pub fn search(conn: &mut DbConn, q: &str, limit: i64) -> QueryResult<Vec<User>> {
        let pattern = contains_pattern(q);
        users::table
            .filter(
                lower(users::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::login).like(pattern.clone()).escape('\\'))
                    .or(lower(users::email).like(pattern).escape('\\')),
            )
            .order(users::name.asc())
            .limit(limit)
            .select(User::as_select())
            .load(conn)
    }

    /// Inserts a member after validation; returns the new id.
    pub fn create(conn: &mut DbConn, new: &NewUser) -> Result<i64, AppError> {
        let t = now();
        let hash = match &new.password {
            Some(p) => Some(crate::crypto::hash_password(p).map_err(AppError::Internal)?),
            None => None,
        };
        let id = diesel::insert_into(users::table)
            .values((
                users::login.eq(new.login.trim()),
                users::name.eq(new.name.trim()),
                users::email.eq(new.email.trim().to_lowercase()),
                users::phone.eq(""),
                users::ui_lang.eq(new.ui_lang.code()),
                users::password_hash.eq(hash.clone()),
                users::is_org_admin.eq(new.is_org_admin),
                users::active.eq(true),
                users::password_changed_at.eq(hash.as_ref().map(|_| t)),
                users::created_at.eq(t),
                users::updated_at.eq(t),
            ))
            .returning(users::id)
            .get_result(conn)?;
        Ok(id)
    }

    /// Replaces the password and stamps the change (other sessions end).
    pub fn set_password(conn: &mut DbConn, id: i64, password: &str) -> Result<(), AppError> {
        let hash = crate::crypto::hash_password(password).map_err(AppError::Internal)?;
        let t = now();
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(Some(hash)),
                users::password_changed_at.eq(Some(t)),
                users::updated_at.eq(t),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Validates the fields of a new member (login, name, e-mail), including uniqueness.
pub fn validate_new_member(
    conn: &mut DbConn,
    errors: &mut dyn Report,
    login: &str,
    name: &str,
    email: &str,
) -> QueryResult<()> {
    let login = login.trim();
    if login.is_empty() {
        errors.add("login", "validation.required");
    } else if login.chars().count() > 64
        || !login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        errors.add("login", "validation.login_format");
    } else if User::find_by_login(conn, login)?.is_some() {
        errors.add("login", "validation.login_taken");
    }
    validate_name(errors, "name", name);
    if !is_valid_email(email) {
        errors.add("email", "validation.email_format");
    } else if User::find_by_email(conn, email)?.is_some() {
        errors.add("email", "validation.email_taken");
    }
    Ok(())
}

/// A display name: 1–50 characters.
pub fn validate_name(errors: &mut dyn Report, field: &str, name: &str) {
    let n = name.trim().chars().count();
    if n == 0 {
        errors.add(field, "validation.required");
    } else if n > 50 {
        errors.add_with(field, "validation.too_long", &[("max", "50")]);
    }
}

/// A pragmatic e-mail check: one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn is_valid_email(email: &str) -> bool {
    let e = email.trim();
    if e.len() > 254 || e.chars().any(char::is_whitespace) {
        return false;
    }
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// Password rules: 10–128 characters, at least two of letters / digits / symbols, and not the
/// login ID. Adds messages to `field`; `confirm` must match.
pub fn validate_password(
    errors: &mut dyn Report,
    field: &str,
    password: &str,
    confirm_field: &str,
    confirm: &str,
    login: &str,
) {
    let len = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_alphabetic()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if len < 10 {
        errors.add(field, "validation.password_short");
    } else if len > 128 {
        errors.add_with(field, "validation.too_long", &[("max", "128")]);
    } else if classes < 2 {
        errors.add(field, "validation.password_weak");
    } else if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        errors.add(field, "validation.password_contains_login");
    }
    if password != confirm {
        errors.add(confirm_field, "validation.password_mismatch");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::validation::Violations;

    #[test]
    fn email_rules() {
        assert!(is_valid_email("a.b@example.co.kr"));
        assert!(!is_valid_email("a@b"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("@example.com"));
    }

    #[test]
    fn password_rules() {
        let mut e = Violations::new();
        validate_password(&mut e, "p", "short1", "c", "short1", "kim");
        assert!(e.has("p"));
        let mut e = Violations::new();
        validate_password(
            &mut e,
            "p",
            "onlyletterslong",
            "c",
            "onlyletterslong",
            "kim",
        );
        assert!(e.has("p"));
        let mut e = Violations::new();
        validate_password(&mut e, "p", "kimsecret123", "c", "kimsecret123", "kim");
        assert!(e.has("p"));
        let mut e = Violations::new();
        validate_password(&mut e, "p", "Good-pass-2026", "c", "Other-pass-2026", "kim");
        assert!(!e.has("p") && e.has("c"));
    }
}
