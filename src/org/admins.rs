//! `/admin/administrators` (SPEC §2.2): the organization administrators, "add org admin" (search
//! existing members by name, login ID or e-mail — at least one is required — pick, save) and
//! removal. The organization never loses its last active administrator, and every change is
//! written to the audit log in the same transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::search::{contains_pattern, lower};
use crate::db::types::UserId;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::org::audit::{self, AuditRecord};
use crate::org::form::query_string;
use crate::org::members::{MemberQuery, MemberRow, list_members, member_rows};
use crate::tenancy::user::User;
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Administrators per page.
const PAGE_SIZE: i64 = 50;
/// Search results shown at most.
const MAX_RESULTS: i64 = 20;

/// The search form (any one field is enough).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SearchForm {
    /// Name contains.
    #[serde(default)]
    pub name: String,
    /// Login ID contains.
    #[serde(default)]
    pub login: String,
    /// E-mail contains.
    #[serde(default)]
    pub email: String,
    /// Set when the search button was pressed.
    #[serde(default)]
    pub search: String,
    /// Keyset for the administrator list.
    #[serde(default)]
    pub after: String,
}

impl SearchForm {
    fn bounded(&self) -> SearchForm {
        let cut = |s: &str| s.trim().chars().take(100).collect::<String>();
        SearchForm {
            name: cut(&self.name),
            login: cut(&self.login),
            email: cut(&self.email),
            search: self.search.clone(),
            after: self.after.clone(),
        }
    }
}

/// Active members who are not organization administrators and match every given field.
pub fn search_candidates(
    conn: &mut DbConn,
    form: &SearchForm,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let pattern = contains_pattern;
    let mut q = users::table
        .filter(users::is_org_admin.eq(false))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .into_boxed();
    if !form.name.is_empty() {
        q = q.filter(lower(users::name).like(pattern(&form.name)).escape('\\'));
    }
    if !form.login.is_empty() {
        q = q.filter(lower(users::login).like(pattern(&form.login)).escape('\\'));
    }
    if !form.email.is_empty() {
        q = q.filter(users::email.like(pattern(&form.email)).escape('\\'));
    }
    q.order((users::name.asc(), users::id.asc()))
        .limit(limit)
        .load(conn)
}

/// The administrators page.
#[derive(Template)]
#[template(path = "admin/administrators.html")]
pub struct AdminsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Current administrators.
    pub admins: Vec<MemberRow>,
    /// Next page of administrators.
    pub next_href: Option<String>,
    /// Search values.
    pub search: SearchForm,
    /// Whether a search ran.
    pub searched: bool,
    /// Matching members.
    pub results: Vec<MemberRow>,
    /// Whether more matched than shown.
    pub more_results: bool,
    /// Search errors.
    pub errors: FormErrors,
    /// The viewing administrator.
    pub self_id: i64,
}

async fn page(
    admin: &OrgAdmin,
    search: SearchForm,
    refusal: Option<String>,
) -> Result<(StatusCode, AdminsPage), AppError> {
    let lang = admin.0.viewer.lang;
    let search = search.bounded();
    let mut errors = FormErrors::new(lang);
    let searched = !search.search.is_empty();
    if searched && search.name.is_empty() && search.login.is_empty() && search.email.is_empty() {
        errors.add("search", "admin.admins.search_required");
    }
    let run_search = searched && errors.is_empty();
    let s2 = search.clone();
    let (admins, more, results) = admin
        .0
        .viewer
        .state
        .db
        .read(move |c| {
            let q = MemberQuery {
                org_admins_only: true,
                after: s2.after.parse().ok(),
                ..MemberQuery::default()
            };
            let (list, more) = list_members(c, &q, PAGE_SIZE)?;
            let admins = member_rows(c, list)?;
            let results = if run_search {
                let found = search_candidates(c, &s2, MAX_RESULTS + 1)?;
                member_rows(c, found)?
            } else {
                Vec::new()
            };
            Ok((admins, more, results))
        })
        .await?;
    let next_href = match admins.last() {
        Some(last) if more => Some(format!(
            "/admin/administrators{}",
            query_string(&[("after", &last.id.to_string())])
        )),
        _ => None,
    };
    let mut results = results;
    let more_results = results.len() as i64 > MAX_RESULTS;
    results.truncate(usize::try_from(MAX_RESULTS).unwrap_or(0));
    let mut ctx = PageCtx::admin(&admin.0, "admin.admins.title");
    let status = if let Some(text) = refusal {
        ctx.flash = Some(Flash::error(text));
        StatusCode::CONFLICT
    } else if !errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        AdminsPage {
            ctx,
            admins,
            next_href,
            search,
            searched: run_search,
            results,
            more_results,
            errors,
            self_id: admin.0.user.id,
        },
    ))
}

/// `GET /admin/administrators` (with `?search=1&name=…&login=…&email=…` to find members).
pub async fn list_admins(
    admin: OrgAdmin,
    query: web::Query<SearchForm>,
) -> Result<HttpResponse, AppError> {
    let (status, p) = page(&admin, query.into_inner(), None).await?;
    w::html(status, &p)
}

/// The grant form.
#[derive(serde::Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    user_id: String,
}

/// Grants or revokes the organization-administrator role, with the safety rules and an audit
/// row. Returns whether anything changed, or the refusal's message key.
pub fn set_org_admin(
    conn: &mut DbConn,
    actor: &User,
    target_id: i64,
    grant: bool,
) -> Result<Result<bool, &'static str>, AppError> {
    let target = User::find(conn, UserId(target_id))?.ok_or(AppError::NotFound)?;
    if target.is_org_admin == grant {
        return Ok(Ok(false));
    }
    if grant && !target.active {
        return Ok(Err("admin.admins.inactive_member"));
    }
    if !grant && target.active && User::count_org_admins(conn)? <= 1 {
        return Ok(Err("admin.admins.last_admin"));
    }
    diesel::update(users::table.find(target_id))
        .set((users::is_org_admin.eq(grant), users::updated_at.eq(now())))
        .execute(conn)?;
    let (operation, before, after) = if grant {
        ("org_admin_granted", "no", "yes")
    } else {
        ("org_admin_revoked", "yes", "no")
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

/// `POST /admin/administrators` — makes a member an organization administrator.
pub async fn grant_admin(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, AppError> {
    let Ok(target_id) = form.user_id.trim().parse::<i64>() else {
        return Err(AppError::BadRequest("admin.admins.pick_member"));
    };
    let actor = admin.0.user.clone();
    let result = admin
        .0
        .viewer
        .state
        .db
        .write(move |c| set_org_admin(c, &actor, target_id, true))
        .await?;
    match result {
        Ok(_) => {
            let v = &admin.0.viewer;
            v.flash(Flash::success(v.t("admin.admins.granted")));
            Ok(w::redirect(&req, "/admin/administrators"))
        }
        Err(key) => {
            let text = admin.0.viewer.t(key);
            let (status, p) = page(&admin, SearchForm::default(), Some(text)).await?;
            w::html(status, &p)
        }
    }
}

/// `POST /admin/administrators/{id}/remove` — takes the role away (never from the last one).
pub async fn revoke_admin(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let target_id = path.into_inner();
    let actor = admin.0.user.clone();
    let result = admin
        .0
        .viewer
        .state
        .db
        .write(move |c| set_org_admin(c, &actor, target_id, false))
        .await?;
    match result {
        Ok(_) => {
            let v = &admin.0.viewer;
            v.flash(Flash::success(v.t("admin.admins.revoked")));
            // Someone who removed their own role can no longer see this area.
            let to = if target_id == admin.0.user.id {
                "/"
            } else {
                "/admin/administrators"
            };
            Ok(w::redirect(&req, to))
        }
        Err(key) => {
            let text = admin.0.viewer.t(key);
            let (status, p) = page(&admin, SearchForm::default(), Some(text)).await?;
            w::html(status, &p)
        }
    }
}
