//! Menu access control (SPEC §1.4): each console menu is open to all members or partially
//! allowed, in which case the members on its restricted list lose it. Service administrators
//! edit it under `/{service_id}/console/settings/menu-access`; [`restricted_menus`] is what
//! [`crate::web::ServiceAccess`] reads on every console request.
//!
//! SPEC §1.4 also says that a member who still holds unprocessed tickets cannot be restricted
//! from Ticket Management, nor one who still holds uncompleted callbacks from Callback
//! Management. That rule is not checked here: tickets and callbacks do not exist in this stage,
//! and only their modules know what "unprocessed" means. When they arrive, they add the check
//! to [`save_menu_access`] (a field message per refused member) before [`save`] runs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::console::shell::settings_base;
use crate::db::DbConn;
use crate::db::schema::{menu_access, menu_restrictions, service_members, users};
use crate::db::types::Menu;
use crate::db::types::UserId;
use crate::error::AppError;
use crate::i18n;
use crate::tenancy::member::Member;
use crate::tenancy::user::User;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Most members listed on a menu's edit page.
const MEMBER_LIMIT: i64 = 1000;

/// The menus a user is restricted from in a service (only menus set to "partial" count).
pub fn restricted_menus(
    conn: &mut DbConn,
    service_id: i64,
    user_id: i64,
) -> QueryResult<Vec<Menu>> {
    let rows: Vec<String> = menu_restrictions::table
        .inner_join(
            menu_access::table.on(menu_access::service_id
                .eq(menu_restrictions::service_id)
                .and(menu_access::menu.eq(menu_restrictions::menu))),
        )
        .filter(menu_restrictions::service_id.eq(service_id))
        .filter(menu_restrictions::user_id.eq(user_id))
        .filter(menu_access::partial.eq(true))
        .select(menu_restrictions::menu)
        .load(conn)?;
    Ok(rows.iter().filter_map(|m| Menu::parse(m)).collect())
}

/// A restricted member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictedMember {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
}

/// How one menu is set.
#[derive(Debug, Clone)]
pub struct MenuSetting {
    /// The menu.
    pub menu: Menu,
    /// Partially allowed (otherwise open to all members).
    pub partial: bool,
    /// Who is restricted (only meaningful when partial).
    pub restricted: Vec<RestrictedMember>,
}

impl MenuSetting {
    /// The menu's code (URL segment).
    pub fn code(&self) -> &'static str {
        self.menu.as_str()
    }

    /// The i18n key of the menu's name.
    pub fn label_key(&self) -> String {
        format!("menu.name.{}", self.menu.as_str())
    }
}

/// How every menu of a service is set, in [`Menu::ALL`] order.
pub fn settings(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<MenuSetting>> {
    let partial: Vec<String> = menu_access::table
        .filter(menu_access::service_id.eq(service_id))
        .filter(menu_access::partial.eq(true))
        .select(menu_access::menu)
        .load(conn)?;
    let restricted: Vec<(String, i64, String, String)> = menu_restrictions::table
        .inner_join(users::table.on(users::id.eq(menu_restrictions::user_id)))
        .filter(menu_restrictions::service_id.eq(service_id))
        .order((users::name.asc(), users::id.asc()))
        .select((
            menu_restrictions::menu,
            users::id,
            users::name,
            users::login,
        ))
        .load(conn)?;
    Ok(Menu::ALL
        .iter()
        .map(|menu| MenuSetting {
            menu: *menu,
            partial: partial.iter().any(|p| p == menu.as_str()),
            restricted: restricted
                .iter()
                .filter(|(m, ..)| m == menu.as_str())
                .map(|(_, user_id, name, login)| RestrictedMember {
                    user_id: *user_id,
                    name: name.clone(),
                    login: login.clone(),
                })
                .collect(),
        })
        .collect())
}

/// Who changes menu access, and where (for the audit log).
pub struct MenuAudit<'a> {
    /// The administrator making the change.
    pub actor: &'a User,
    /// Service id.
    pub service_id: i64,
    /// Service ID (code) at the time.
    pub service_code: &'a str,
}

/// The members a menu currently denies (restricted while the menu is partially allowed).
fn effectively_restricted(conn: &mut DbConn, service_id: i64, menu: Menu) -> QueryResult<Vec<i64>> {
    let partial: Option<bool> = menu_access::table
        .filter(menu_access::service_id.eq(service_id))
        .filter(menu_access::menu.eq(menu.as_str()))
        .select(menu_access::partial)
        .first(conn)
        .optional()?;
    if partial != Some(true) {
        return Ok(Vec::new());
    }
    menu_restrictions::table
        .filter(menu_restrictions::service_id.eq(service_id))
        .filter(menu_restrictions::menu.eq(menu.as_str()))
        .select(menu_restrictions::user_id)
        .load(conn)
}

/// Sets a menu to "allow all" (`partial = false`, the restricted list is cleared) or to
/// "partially allow" with exactly `user_ids` restricted (ids that are not members of the
/// service are ignored). Every member who gains or loses the menu gets an audit row
/// (`menu_restricted` / `menu_unrestricted`).
pub fn save(
    conn: &mut DbConn,
    audit: &MenuAudit<'_>,
    menu: Menu,
    partial: bool,
    user_ids: &[i64],
) -> QueryResult<()> {
    let service_id = audit.service_id;
    let before = effectively_restricted(conn, service_id, menu)?;
    diesel::delete(
        menu_access::table
            .filter(menu_access::service_id.eq(service_id))
            .filter(menu_access::menu.eq(menu.as_str())),
    )
    .execute(conn)?;
    diesel::insert_into(menu_access::table)
        .values((
            menu_access::service_id.eq(service_id),
            menu_access::menu.eq(menu.as_str()),
            menu_access::partial.eq(partial),
        ))
        .execute(conn)?;
    diesel::delete(
        menu_restrictions::table
            .filter(menu_restrictions::service_id.eq(service_id))
            .filter(menu_restrictions::menu.eq(menu.as_str())),
    )
    .execute(conn)?;
    let after: Vec<i64> = if partial {
        service_members::table
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::user_id.eq_any(user_ids))
            .select(service_members::user_id)
            .load(conn)?
    } else {
        Vec::new()
    };
    for uid in &after {
        diesel::insert_into(menu_restrictions::table)
            .values((
                menu_restrictions::service_id.eq(service_id),
                menu_restrictions::menu.eq(menu.as_str()),
                menu_restrictions::user_id.eq(*uid),
            ))
            .execute(conn)?;
    }
    let allowed = format!("{}: allowed", menu.as_str());
    let restricted = format!("{}: restricted", menu.as_str());
    let changes = after
        .iter()
        .filter(|u| !before.contains(u))
        .map(|u| (*u, "menu_restricted", &allowed, &restricted))
        .chain(
            before
                .iter()
                .filter(|u| !after.contains(u))
                .map(|u| (*u, "menu_unrestricted", &restricted, &allowed)),
        );
    for (uid, operation, from, to) in changes {
        let Some(target) = User::find(conn, UserId(uid))? else {
            continue;
        };
        crate::org::audit::record(
            conn,
            crate::org::audit::AuditRecord {
                service: Some((service_id, audit.service_code)),
                actor: audit.actor,
                target: &target,
                operation,
                before: from.clone(),
                after: to.clone(),
            },
        )?;
    }
    Ok(())
}

/// The overview page.
#[derive(Template)]
#[template(path = "agents/menu_access.html")]
pub struct MenuAccessPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Every menu.
    pub menus: Vec<MenuSetting>,
}

/// A member on a menu's edit page.
#[derive(Debug, Clone)]
pub struct MemberChoice {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// Role label key.
    pub role_key: String,
    /// On the restricted list.
    pub restricted: bool,
}

/// One menu's edit page.
#[derive(Template)]
#[template(path = "agents/menu_edit.html")]
pub struct MenuEditPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Menu code.
    pub code: String,
    /// Menu name key.
    pub label_key: String,
    /// Partially allowed.
    pub partial: bool,
    /// The service's members.
    pub members: Vec<MemberChoice>,
    /// Whether the member list was cut at the limit.
    pub truncated: bool,
    /// Field errors.
    pub errors: FormErrors,
}

/// `GET /{service_id}/console/settings/menu-access`
pub async fn menu_access_page(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let menus = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(settings(c, sid)?))
        .await?;
    let page = MenuAccessPage {
        ctx: PageCtx::console(&a, "menu.title"),
        base: settings_base(&a.service.code),
        menus,
    };
    w::html(StatusCode::OK, &page)
}

fn parse_menu(code: &str) -> Result<Menu, AppError> {
    Menu::parse(code).ok_or(AppError::NotFound)
}

async fn render_menu(
    a: &ServiceAdmin,
    menu: Menu,
    shown: Option<(bool, Vec<i64>)>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let (setting, mut agents) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let setting = settings(c, sid)?
                .into_iter()
                .find(|s| s.menu == menu)
                .ok_or(AppError::NotFound)?;
            let agents = Member::list_agents(c, sid, "", None, MEMBER_LIMIT + 1)?;
            Ok((setting, agents))
        })
        .await?;
    let truncated = agents.len() as i64 > MEMBER_LIMIT;
    agents.truncate(MEMBER_LIMIT as usize);
    let (partial, restricted) = shown.unwrap_or_else(|| {
        (
            setting.partial,
            setting.restricted.iter().map(|r| r.user_id).collect(),
        )
    });
    let members = agents
        .into_iter()
        .map(|(u, m)| MemberChoice {
            restricted: restricted.contains(&u.id),
            user_id: u.id,
            name: u.name,
            login: u.login,
            role_key: format!("role.{}", m.role().as_str()),
        })
        .collect();
    let page = MenuEditPage {
        ctx: PageCtx::console(a, "menu.edit_title"),
        base: settings_base(&a.service.code),
        code: setting.code().to_string(),
        label_key: setting.label_key(),
        partial,
        members,
        truncated,
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/menu-access/{menu}`
pub async fn edit_menu_access(
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let menu = parse_menu(&path.1)?;
    let lang = a.viewer().lang;
    render_menu(&a, menu, None, FormErrors::new(lang), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/menu-access/{menu}` — `mode` (`all` or `partial`) and
/// `user_id` repeated for the restricted members.
pub async fn save_menu_access(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let menu = parse_menu(&path.1)?;
    let lang = a.viewer().lang;
    let ids = form.ids("user_id");
    let mut errors = FormErrors::new(lang);
    let partial = match form.get("mode") {
        "all" => false,
        "partial" => true,
        _ => {
            errors.add("mode", "validation.choose_option");
            false
        }
    };
    if partial && ids.is_empty() {
        errors.add("user_id", "menu.choose_members");
    }
    if !errors.is_empty() {
        return render_menu(
            &a,
            menu,
            Some((partial, ids)),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (sid, code, actor) = (a.service.id, a.service.code.clone(), a.user().clone());
    a.viewer()
        .state
        .db
        .write(move |c| {
            let audit = MenuAudit {
                actor: &actor,
                service_id: sid,
                service_code: &code,
            };
            Ok(save(c, &audit, menu, partial, &ids)?)
        })
        .await?;
    let name = i18n::t(lang, &format!("menu.name.{}", menu.as_str()));
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "menu.saved",
        &[("menu", &name)],
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/menu-access", settings_base(&a.service.code)),
    ))
}
