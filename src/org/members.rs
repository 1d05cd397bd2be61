//! `/admin/members`: the organization's member directory (SPEC §1.1, §2.2). Search by name,
//! login ID or e-mail, keyset pages ordered by name, invitations by e-mail (and resending them),
//! deactivation and reactivation (a deactivated member cannot sign in; their history stays), and
//! a detail page with the member's services, roles and recent sign-ins.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::auth::history::{self, LoginEvent};
use crate::auth::invite::{Queued, invite_member, queue_account_mail};
use crate::auth::tokens;
use crate::db::refuse;
use crate::db::schema::{service_members, services, users};
use crate::db::search::{contains_pattern, lower};
use crate::db::types::TokenPurpose;
use crate::db::types::UserId;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::org::audit::{self, AuditRecord};
use crate::org::form::query_string;
use crate::tenancy::user::{NewUser, User, validate_new_member};
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Members per page.
pub const PAGE_SIZE: i64 = 50;

/// A member's account state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// Can sign in.
    Active,
    /// Invited, no password set yet.
    Invited,
    /// Deactivated: cannot sign in.
    Deactivated,
}

impl MemberStatus {
    /// The state of a member.
    pub fn of(u: &User) -> MemberStatus {
        if !u.active {
            MemberStatus::Deactivated
        } else if u.password_hash.is_none() {
            MemberStatus::Invited
        } else {
            MemberStatus::Active
        }
    }

    /// The code used in filters and CSS.
    pub fn code(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Invited => "invited",
            MemberStatus::Deactivated => "deactivated",
        }
    }

    /// The label's i18n key.
    pub fn label_key(self) -> &'static str {
        match self {
            MemberStatus::Active => "admin.status.active",
            MemberStatus::Invited => "admin.status.invited",
            MemberStatus::Deactivated => "admin.status.deactivated",
        }
    }

    fn parse(s: &str) -> Option<MemberStatus> {
        match s {
            "active" => Some(MemberStatus::Active),
            "invited" => Some(MemberStatus::Invited),
            "deactivated" => Some(MemberStatus::Deactivated),
            _ => None,
        }
    }
}

/// What a member list shows.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    /// Matches name, login ID or e-mail (contains, case-insensitive).
    pub text: String,
    /// Only members in this state.
    pub status: Option<MemberStatus>,
    /// Only organization administrators.
    pub org_admins_only: bool,
    /// Continue after this member (keyset on name, id).
    pub after: Option<i64>,
}

/// A page of members ordered by name (then id); returns at most `limit` rows plus whether more
/// follow.
pub fn list_members(
    conn: &mut DbConn,
    q: &MemberQuery,
    limit: i64,
) -> QueryResult<(Vec<User>, bool)> {
    let mut query = users::table.select(User::as_select()).into_boxed();
    let text = q.text.trim();
    if !text.is_empty() {
        let pattern = contains_pattern(text);
        query = query.filter(
            lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::login).like(pattern.clone()).escape('\\'))
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    match q.status {
        Some(MemberStatus::Active) => {
            query = query
                .filter(users::active.eq(true))
                .filter(users::password_hash.is_not_null());
        }
        Some(MemberStatus::Invited) => {
            query = query
                .filter(users::active.eq(true))
                .filter(users::password_hash.is_null());
        }
        Some(MemberStatus::Deactivated) => query = query.filter(users::active.eq(false)),
        None => {}
    }
    if q.org_admins_only {
        query = query.filter(users::is_org_admin.eq(true));
    }
    if let Some(after) = q.after {
        let name: Option<String> = users::table
            .find(after)
            .select(users::name)
            .first(conn)
            .optional()?;
        if let Some(name) = name {
            query = query.filter(
                users::name
                    .gt(name.clone())
                    .or(users::name.eq(name).and(users::id.gt(after))),
            );
        }
    }
    let mut rows = query
        .order((users::name.asc(), users::id.asc()))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// One membership, for lists and the detail page.
#[derive(Debug, Clone)]
pub struct MembershipRow {
    /// Service ID.
    pub code: String,
    /// Service name.
    pub name: String,
    /// Role label key (`role.admin` / `role.agent`).
    pub role_key: String,
    /// Whether the service is enabled.
    pub enabled: bool,
}

/// The memberships of several members, keyed by user id, ordered by service name.
pub fn memberships_of(
    conn: &mut DbConn,
    user_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<MembershipRow>>> {
    let rows: Vec<(i64, String, String, String, bool)> = service_members::table
        .inner_join(services::table)
        .filter(service_members::user_id.eq_any(user_ids))
        .order((services::name.asc(), services::id.asc()))
        .select((
            service_members::user_id,
            services::code,
            services::name,
            service_members::role,
            services::enabled,
        ))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<MembershipRow>> = HashMap::new();
    for (uid, code, name, role, enabled) in rows {
        map.entry(uid).or_default().push(MembershipRow {
            code,
            name,
            role_key: format!("role.{role}"),
            enabled,
        });
    }
    Ok(map)
}

/// A row of the member list.
pub struct MemberRow {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// E-mail.
    pub email: String,
    /// Organization administrator.
    pub is_org_admin: bool,
    /// Status code (CSS).
    pub status: String,
    /// Status label key.
    pub status_key: String,
    /// Services.
    pub services: Vec<MembershipRow>,
}

/// Builds list rows for users, with their services.
pub fn member_rows(conn: &mut DbConn, list: Vec<User>) -> QueryResult<Vec<MemberRow>> {
    let ids: Vec<i64> = list.iter().map(|u| u.id).collect();
    let mut memberships = memberships_of(conn, &ids)?;
    Ok(list
        .into_iter()
        .map(|u| {
            let status = MemberStatus::of(&u);
            MemberRow {
                services: memberships.remove(&u.id).unwrap_or_default(),
                id: u.id,
                name: u.name,
                login: u.login,
                email: u.email,
                is_org_admin: u.is_org_admin,
                status: status.code().to_string(),
                status_key: status.label_key().to_string(),
            }
        })
        .collect())
}

/// The member list.
#[derive(Template)]
#[template(path = "admin/members.html")]
pub struct MembersPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Search text.
    pub q: String,
    /// Status filter code.
    pub status: String,
    /// Rows.
    pub rows: Vec<MemberRow>,
    /// Link to the next page.
    pub next_href: Option<String>,
    /// Whether this is a continuation page (offers "back to the first page").
    pub continued: bool,
}

/// Query of the member list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
}

/// `GET /admin/members`
pub async fn list_members_page(
    admin: OrgAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let text: String = query.q.trim().chars().take(100).collect();
    let status = MemberStatus::parse(&query.status);
    let mq = MemberQuery {
        text: text.clone(),
        status,
        org_admins_only: false,
        after: query.after.parse().ok(),
    };
    let continued = mq.after.is_some();
    let (rows, more) = admin
        .0
        .viewer
        .state
        .db
        .read(move |c| {
            let (list, more) = list_members(c, &mq, PAGE_SIZE)?;
            Ok((member_rows(c, list)?, more))
        })
        .await?;
    let status_code = status.map(|s| s.code()).unwrap_or("");
    let next_href = match rows.last() {
        Some(last) if more => Some(format!(
            "/admin/members{}",
            query_string(&[
                ("q", &text),
                ("status", status_code),
                ("after", &last.id.to_string())
            ])
        )),
        _ => None,
    };
    let page = MembersPage {
        ctx: PageCtx::admin(&admin.0, "admin.members.title"),
        q: text,
        status: status_code.to_string(),
        rows,
        next_href,
        continued,
    };
    w::html(StatusCode::OK, &page)
}

/// The invitation form's values.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct InviteForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Login ID.
    #[serde(default)]
    pub login: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// UI language of the new member (and of the mail).
    #[serde(default)]
    pub ui_lang: String,
}

/// The invitation page.
#[derive(Template)]
#[template(path = "admin/member_invite.html")]
pub struct InvitePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Values.
    pub form: InviteForm,
    /// Field errors.
    pub errors: FormErrors,
}

/// `GET /admin/members/invite`
pub async fn invite_form(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let page = InvitePage {
        ctx: PageCtx::admin(&admin.0, "admin.invite.title"),
        form: InviteForm {
            ui_lang: lang.code().to_string(),
            ..InviteForm::default()
        },
        errors: FormErrors::new(lang),
    };
    w::html(StatusCode::OK, &page)
}

/// The flash message for a queued invitation.
fn queued_flash(admin: &OrgAdmin, user: &User, queued: Queued, ok_key: &str) -> Flash {
    let v = &admin.0.viewer;
    match queued {
        Queued::Queued => Flash::success(i18n::tf(v.lang, ok_key, &[("email", &user.email)])),
        Queued::NoRelay => Flash::error(i18n::tf(
            v.lang,
            "outbox.invite_no_relay",
            &[("email", &user.email)],
        )),
    }
}

/// Organization name and base URL for account mails.
fn mail_ctx(admin: &OrgAdmin) -> (String, String) {
    let v = &admin.0.viewer;
    (
        v.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        v.state.config.base_url.clone(),
    )
}

/// `POST /admin/members/invite`
pub async fn invite(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = admin.0.viewer.lang;
    let f2 = form.clone();
    let (org_name, base_url) = mail_ctx(&admin);
    let result = admin
        .0
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            validate_new_member(c, &mut errors, &f2.login, &f2.name, &f2.email)?;
            let ui_lang = Lang::parse(&f2.ui_lang).filter(|l| l.code() == f2.ui_lang);
            if ui_lang.is_none() {
                errors.add("ui_lang", "validation.choose_option");
            }
            let Some(ui_lang) = ui_lang.filter(|_| errors.is_empty()) else {
                return refuse(errors);
            };
            let new = NewUser {
                login: f2.login.trim().to_string(),
                name: f2.name.trim().to_string(),
                email: f2.email.trim().to_string(),
                ui_lang,
                password: None,
                is_org_admin: false,
            };
            let (user, token) = invite_member(c, &new)?;
            let queued = queue_account_mail(
                c,
                None,
                &base_url,
                &user,
                TokenPurpose::Invite,
                &token,
                &org_name,
            )?;
            Ok((user, queued))
        })
        .await?;
    match result {
        Ok((user, queued)) => {
            let flash = queued_flash(&admin, &user, queued, "outbox.invite_queued");
            admin.0.viewer.flash(flash);
            Ok(w::redirect(&req, &format!("/admin/members/{}", user.id)))
        }
        Err(errors) => {
            let page = InvitePage {
                ctx: PageCtx::admin(&admin.0, "admin.invite.title"),
                form,
                errors,
            };
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// A sign-in history row.
pub struct LoginRow {
    /// When (UTC, `YYYY-MM-DD HH:MM`).
    pub time: String,
    /// Kind label key.
    pub kind_key: String,
    /// Client address.
    pub ip: String,
}

/// The member detail page.
#[derive(Template)]
#[template(path = "admin/member_detail.html")]
pub struct MemberPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The member.
    pub member: User,
    /// Status code (CSS).
    pub status: String,
    /// Status label key.
    pub status_key: String,
    /// UI language's native name.
    pub ui_lang_name: String,
    /// Created (UTC).
    pub created: String,
    /// Services and roles.
    pub services: Vec<MembershipRow>,
    /// Recent sign-ins.
    pub logins: Vec<LoginRow>,
    /// Whether this is the viewing administrator.
    pub is_self: bool,
}

/// Number of recent history rows on the detail page.
const RECENT_LOGINS: i64 = 10;

async fn member_page(
    admin: &OrgAdmin,
    id: i64,
    refusal: Option<String>,
) -> Result<MemberPage, AppError> {
    let (member, services, events) = admin
        .0
        .viewer
        .state
        .db
        .read(move |c| {
            let member = User::find(c, UserId(id))?.ok_or(AppError::NotFound)?;
            let services = memberships_of(c, &[id])?.remove(&id).unwrap_or_default();
            let events: Vec<LoginEvent> = history::page(c, Some(id), None, RECENT_LOGINS)?;
            Ok((member, services, events))
        })
        .await?;
    let mut ctx = PageCtx::admin(&admin.0, "admin.member.title");
    if let Some(text) = refusal {
        ctx.flash = Some(Flash::error(text));
    }
    let status = MemberStatus::of(&member);
    Ok(MemberPage {
        ctx,
        status: status.code().to_string(),
        status_key: status.label_key().to_string(),
        ui_lang_name: member.lang().native_name().to_string(),
        created: member.created_at.format("%Y-%m-%d %H:%M").to_string(),
        services,
        logins: events
            .into_iter()
            .map(|e| LoginRow {
                time: e.created_at.format("%Y-%m-%d %H:%M").to_string(),
                kind_key: format!("admin.login_kind.{}", e.kind),
                ip: e.ip,
            })
            .collect(),
        is_self: member.id == admin.0.user.id,
        member,
    })
}

/// `GET /admin/members/{id}`
pub async fn member_detail(
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let page = member_page(&admin, path.into_inner(), None).await?;
    w::html(StatusCode::OK, &page)
}

/// The answer to a refused action on a member: the detail page, 409, with the reason on top.
async fn refused(admin: &OrgAdmin, id: i64, key: &str) -> Result<HttpResponse, AppError> {
    let text = admin.0.viewer.t(key);
    let page = member_page(admin, id, Some(text)).await?;
    w::html(StatusCode::CONFLICT, &page)
}

/// `POST /admin/members/{id}/resend` — a new invitation link (the old one stops working).
pub async fn resend_invitation(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (org_name, base_url) = mail_ctx(&admin);
    let result = admin
        .0
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let user = User::find(c, UserId(id))?.ok_or(AppError::NotFound)?;
            if user.has_password() {
                return refuse("admin.invite.already_accepted");
            }
            if !user.active {
                return refuse("admin.invite.member_deactivated");
            }
            let token = tokens::issue(c, id, TokenPurpose::Invite)?;
            let queued = queue_account_mail(
                c,
                None,
                &base_url,
                &user,
                TokenPurpose::Invite,
                &token,
                &org_name,
            )?;
            Ok((user, queued))
        })
        .await?;
    match result {
        Ok((user, queued)) => {
            let flash = queued_flash(&admin, &user, queued, "outbox.invite_requeued");
            admin.0.viewer.flash(flash);
            Ok(w::redirect(&req, &format!("/admin/members/{id}")))
        }
        Err(key) => refused(&admin, id, key).await,
    }
}

/// Sets a member's active flag with the organization's safety rules and an audit row.
/// Returns the refusal's message key when the change is not allowed.
pub fn set_active(
    conn: &mut DbConn,
    actor: &User,
    target_id: i64,
    active: bool,
) -> Result<Result<bool, &'static str>, AppError> {
    let target = User::find(conn, UserId(target_id))?.ok_or(AppError::NotFound)?;
    if target.active == active {
        return Ok(Ok(false));
    }
    if !active {
        if target.id == actor.id {
            return Ok(Err("admin.members.cannot_deactivate_self"));
        }
        if target.is_org_admin && User::count_org_admins(conn)? <= 1 {
            return Ok(Err("admin.members.last_org_admin"));
        }
    }
    diesel::update(users::table.find(target_id))
        .set((users::active.eq(active), users::updated_at.eq(now())))
        .execute(conn)?;
    let (operation, before, after) = if active {
        ("member_reactivated", "deactivated", "active")
    } else {
        ("member_deactivated", "active", "deactivated")
    };
    audit::record(
        conn,
        AuditRecord {
            service: None,
            actor,
            target: &target,
            operation,
            before: before.into(),
            after: after.into(),
        },
    )?;
    Ok(Ok(true))
}

async fn change_active(
    req: HttpRequest,
    admin: OrgAdmin,
    id: i64,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let actor = admin.0.user.clone();
    let result = admin
        .0
        .viewer
        .state
        .db
        .write(move |c| set_active(c, &actor, id, active))
        .await?;
    match result {
        Ok(_) => {
            let key = if active {
                "admin.members.reactivated"
            } else {
                "admin.members.deactivated"
            };
            let v = &admin.0.viewer;
            v.flash(Flash::success(v.t(key)));
            Ok(w::redirect(&req, &format!("/admin/members/{id}")))
        }
        Err(key) => refused(&admin, id, key).await,
    }
}

/// `POST /admin/members/{id}/deactivate`
pub async fn deactivate_member(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    change_active(req, admin, path.into_inner(), false).await
}

/// `POST /admin/members/{id}/reactivate`
pub async fn reactivate_member(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    change_active(req, admin, path.into_inner(), true).await
}
