//! The organization (one per installation): its name, signing ID, encrypted key and logo, and
//! first-run setup, which the `/setup` page and `opencontact setup` share.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::validation::{Report, Violations};
use crate::crypto::{self, SecretKey};
use crate::db::schema::{organizations, users as users_t};
use crate::db::types::ServiceKind;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::service::{NewService, Service};
use crate::tenancy::user::{self as users, NewUser, User};

/// The organization row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// Key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The 16-character organization ID used in Open API signatures.
    pub org_uid: String,
    /// The organization key, encrypted with the installation secret.
    pub org_key_enc: String,
    /// Stored logo file (inside the data directory).
    pub logo_path: Option<String>,
    /// The logo's content type.
    pub logo_mime: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

impl Organization {
    /// The organization, if setup has run.
    pub fn find(conn: &mut DbConn) -> QueryResult<Option<Organization>> {
        organizations::table
            .order(organizations::id.asc())
            .select(Organization::as_select())
            .first(conn)
            .optional()
    }

    /// The decrypted organization key.
    pub fn org_key(&self, secret: &SecretKey) -> Result<String, AppError> {
        secret
            .decrypt(&self.org_key_enc)
            .ok_or_else(|| AppError::Internal("organization key cannot be decrypted".into()))
    }

    /// Replaces the organization key with a new random one; returns it.
    pub fn regenerate_key(conn: &mut DbConn, secret: &SecretKey) -> Result<String, AppError> {
        let key = crypto::random_hex(16);
        diesel::update(organizations::table)
            .set((
                organizations::org_key_enc.eq(secret.encrypt(&key)),
                organizations::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(key)
    }
}

/// The `/setup` form and `opencontact setup` flags.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SetupInput {
    /// Organization name.
    #[serde(default)]
    pub org_name: String,
    /// First service's ID (letters only).
    #[serde(default)]
    pub service_id: String,
    /// First service's name.
    #[serde(default)]
    pub service_name: String,
    /// Administrator login.
    #[serde(default)]
    pub admin_login: String,
    /// Administrator name.
    #[serde(default)]
    pub admin_name: String,
    /// Administrator e-mail.
    #[serde(default)]
    pub admin_email: String,
    /// Password.
    #[serde(default)]
    pub password: String,
    /// Password again.
    #[serde(default)]
    pub password_confirm: String,
    /// The administrator's and service's language (`ko`, `en`, `ja`).
    #[serde(default)]
    pub language: String,
    /// The service's time zone.
    #[serde(default)]
    pub timezone: String,
}

/// Creates the organization, its first administrator (org admin + service admin) and its first
/// consultation service, in the caller's transaction. Fails with field errors on bad input and
/// with `error.already_setup` when an organization exists.
pub fn run_setup(
    conn: &mut DbConn,
    secret: &SecretKey,
    input: &SetupInput,
    lang: Lang,
) -> Result<Result<(i64, i64), Violations>, AppError> {
    let mut errors = Violations::new();
    if Organization::find(conn)?.is_some() {
        return Err(AppError::Forbidden("error.already_setup"));
    }
    users::validate_name(&mut errors, "org_name", &input.org_name);
    users::validate_new_member(
        conn,
        &mut errors,
        &input.admin_login,
        &input.admin_name,
        &input.admin_email,
    )?;
    users::validate_password(
        &mut errors,
        "password",
        &input.password,
        "password_confirm",
        &input.password_confirm,
        &input.admin_login,
    );
    let language = Lang::parse(&input.language).unwrap_or(lang);
    let timezone = if input.timezone.trim().is_empty() {
        "Asia/Seoul".to_string()
    } else {
        input.timezone.trim().to_string()
    };
    let new_service = NewService {
        code: input.service_id.trim().to_string(),
        kind: ServiceKind::Consultation,
        name: input.service_name.trim().to_string(),
        languages: vec![language],
        default_lang: language,
        timezone,
        editor_type: crate::db::types::EditorType::Html,
    };
    crate::tenancy::service::validate_new_service(conn, &mut errors, &new_service)?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let t = now();
    let org_key = crypto::random_hex(16);
    diesel::insert_into(organizations::table)
        .values((
            organizations::name.eq(input.org_name.trim()),
            organizations::org_uid.eq(crypto::random_alnum(16)),
            organizations::org_key_enc.eq(secret.encrypt(&org_key)),
            organizations::created_at.eq(t),
            organizations::updated_at.eq(t),
        ))
        .execute(conn)?;
    let admin_id = User::create(
        conn,
        &NewUser {
            login: input.admin_login.clone(),
            name: input.admin_name.clone(),
            email: input.admin_email.clone(),
            ui_lang: language,
            password: Some(input.password.clone()),
            is_org_admin: true,
        },
    )?;
    let service_id = Service::create(conn, &new_service)?;
    crate::tenancy::member::Member::add_admin(conn, service_id, admin_id)?;
    Ok(Ok((admin_id, service_id)))
}

/// Whether the organization still needs setting up (no organization or no member).
pub fn needs_setup(conn: &mut DbConn) -> QueryResult<bool> {
    // Existence checks, not counts: this runs on every visit to `/` and `/login`.
    let org: Option<i64> = organizations::table
        .select(organizations::id)
        .first(conn)
        .optional()?;
    if org.is_none() {
        return Ok(true);
    }
    let member: Option<i64> = users_t::table.select(users_t::id).first(conn).optional()?;
    Ok(member.is_none())
}
