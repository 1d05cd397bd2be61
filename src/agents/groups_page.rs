//! Service Management → Groups (SPEC §3.12): the service's groups in display order (the order
//! of the ticket-forward dialog) with member counts; creating, renaming and deleting groups; a
//! group's ordered membership (the order drives round-robin assignment). Both orders can be
//! changed by drag and drop (SortableJS posts the ids in their new order through htmx and gets
//! the re-rendered list back) or, without JavaScript, with up/down buttons in the same form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::{Pairs, move_one};
use crate::console::shell::settings_base;
use crate::db::refuse;
use crate::error::AppError;
use crate::i18n;
use crate::tenancy::group::{Group, GroupMember, GroupSummary, validate_group_name};
use crate::tenancy::member::Member;
use crate::web::{self as w, AgentManager, Flash, FormErrors, PageCtx};

/// Candidates listed on a group page for adding.
const CANDIDATE_LIMIT: i64 = 100;

/// The groups page.
#[derive(Template)]
#[template(path = "agents/groups.html")]
pub struct GroupsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Groups in display order.
    pub groups: Vec<GroupSummary>,
    /// Name typed into the create form.
    pub name_value: String,
    /// Create-form errors.
    pub errors: FormErrors,
}

/// The display-order list alone (the htmx answer to a reorder).
#[derive(Template)]
#[template(path = "agents/_group_order.html")]
pub struct GroupOrderFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Groups in display order.
    pub groups: Vec<GroupSummary>,
}

/// A service agent who can be added to a group.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
}

/// A group's page: rename, members in order, add members, delete.
#[derive(Template)]
#[template(path = "agents/group.html")]
pub struct GroupPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// The group.
    pub group: Group,
    /// Members in order.
    pub members: Vec<GroupMember>,
    /// Agents of the service not in the group (filtered by `q`).
    pub candidates: Vec<Candidate>,
    /// Whether more candidates exist than are listed.
    pub more_candidates: bool,
    /// Candidate filter.
    pub q: String,
    /// Name in the rename form.
    pub name_value: String,
    /// Rename errors.
    pub errors: FormErrors,
}

/// The member-order list alone (the htmx answer to a reorder).
#[derive(Template)]
#[template(path = "agents/_member_order.html")]
pub struct MemberOrderFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// The group.
    pub group: Group,
    /// Members in order.
    pub members: Vec<GroupMember>,
}

async fn summaries(m: &AgentManager) -> Result<Vec<GroupSummary>, AppError> {
    let sid = m.service.id;
    m.viewer()
        .state
        .db
        .read(move |c| Ok(Group::summaries(c, sid)?))
        .await
}

async fn render_groups(
    m: &AgentManager,
    name: String,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let page = GroupsPage {
        ctx: PageCtx::console(m, "group.list_title"),
        base: settings_base(&m.service.code),
        groups: summaries(m).await?,
        name_value: name,
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/groups`
pub async fn list_groups(m: AgentManager) -> Result<HttpResponse, AppError> {
    let lang = m.viewer().lang;
    render_groups(&m, String::new(), FormErrors::new(lang), StatusCode::OK).await
}

/// Name form (create and rename).
#[derive(Debug, Default, serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// `POST /{service_id}/console/settings/groups`
pub async fn create_group(
    req: HttpRequest,
    m: AgentManager,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let name = form.into_inner().name;
    let lang = m.viewer().lang;
    let sid = m.service.id;
    let n2 = name.clone();
    let result = m
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            validate_group_name(c, &mut errors, sid, &n2, None)?;
            if !errors.is_empty() {
                return refuse(errors);
            }
            Ok(Group::create(c, sid, &n2)?)
        })
        .await?;
    match result {
        Ok(id) => {
            m.viewer().flash(Flash::success(i18n::tf(
                lang,
                "group.created",
                &[("name", name.trim())],
            )));
            Ok(w::redirect(
                &req,
                &format!("{}/groups/{id}", settings_base(&m.service.code)),
            ))
        }
        Err(errors) => render_groups(&m, name, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

/// `POST /{service_id}/console/settings/groups/order` — `group_id` repeated in the new order,
/// optionally `up` or `down` naming one group to move a step (the no-JavaScript buttons).
pub async fn order_groups(
    req: HttpRequest,
    m: AgentManager,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut order = form.ids("group_id");
    if let Some(id) = form.id("up") {
        move_one(&mut order, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut order, id, false);
    }
    let sid = m.service.id;
    let groups = m
        .viewer()
        .state
        .db
        .write(move |c| {
            Group::set_display_order(c, sid, &order)?;
            Ok(Group::summaries(c, sid)?)
        })
        .await?;
    let base = settings_base(&m.service.code);
    if w::is_htmx(&req) {
        let fragment = GroupOrderFragment {
            ctx: PageCtx::console(&m, "group.list_title"),
            base,
            groups,
        };
        return w::html(StatusCode::OK, &fragment);
    }
    m.viewer()
        .flash(Flash::success(m.viewer().t("group.order_saved")));
    Ok(w::redirect(&req, &format!("{base}/groups")))
}

/// Query of the group page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct GroupQuery {
    q: Option<String>,
}

async fn render_group(
    m: &AgentManager,
    group_id: i64,
    q: String,
    name: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = m.service.id;
    let q2 = q.clone();
    let (group, members, mut candidates) = m
        .viewer()
        .state
        .db
        .read(move |c| {
            let group = Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            let members = Group::members(c, group_id)?;
            // Ask for enough rows that, after dropping current members, a full list remains.
            let limit = CANDIDATE_LIMIT + 1 + members.len() as i64;
            let candidates: Vec<Candidate> = Member::list_agents(c, sid, &q2, None, limit)?
                .into_iter()
                .filter(|(u, _)| !members.iter().any(|gm| gm.user_id == u.id))
                .map(|(u, _)| Candidate {
                    user_id: u.id,
                    name: u.name,
                    login: u.login,
                })
                .collect();
            Ok((group, members, candidates))
        })
        .await?;
    let more_candidates = candidates.len() as i64 > CANDIDATE_LIMIT;
    candidates.truncate(CANDIDATE_LIMIT as usize);
    let page = GroupPage {
        ctx: PageCtx::console(m, "group.detail_title"),
        base: settings_base(&m.service.code),
        name_value: name.unwrap_or_else(|| group.name.clone()),
        group,
        members,
        candidates,
        more_candidates,
        q,
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/groups/{group_id}`
pub async fn show_group(
    m: AgentManager,
    path: web::Path<(String, i64)>,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let q: String = query
        .q
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .take(100)
        .collect();
    let lang = m.viewer().lang;
    render_group(&m, group_id, q, None, FormErrors::new(lang), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/groups/{group_id}` — rename.
pub async fn rename_group(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let name = form.into_inner().name;
    let lang = m.viewer().lang;
    let sid = m.service.id;
    let n2 = name.clone();
    let result = m
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            let mut errors = FormErrors::new(lang);
            validate_group_name(c, &mut errors, sid, &n2, Some(group_id))?;
            if !errors.is_empty() {
                return refuse(errors);
            }
            Group::rename(c, group_id, &n2)?;
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => {
            m.viewer()
                .flash(Flash::success(m.viewer().t("group.renamed")));
            Ok(w::redirect(
                &req,
                &format!("{}/groups/{group_id}", settings_base(&m.service.code)),
            ))
        }
        Err(errors) => {
            render_group(
                &m,
                group_id,
                String::new(),
                Some(name),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/settings/groups/{group_id}/delete`
pub async fn delete_group(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let sid = m.service.id;
    let group = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let group = Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            Group::delete(c, group_id)?;
            Ok(group)
        })
        .await?;
    m.viewer().flash(Flash::success(i18n::tf(
        m.viewer().lang,
        "group.deleted",
        &[("name", &group.name)],
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/groups", settings_base(&m.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/groups/{group_id}/members` — `user_id` repeated.
pub async fn add_group_members(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let ids = form.ids("user_id");
    let sid = m.service.id;
    let added = m
        .viewer()
        .state
        .db
        .write(move |c| {
            Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            Ok(Group::add_members(c, sid, group_id, &ids)?)
        })
        .await?;
    let flash = if added == 0 {
        Flash::error(m.viewer().t("group.none_added"))
    } else {
        Flash::success(i18n::tf(
            m.viewer().lang,
            "group.members_added",
            &[("count", &added.to_string())],
        ))
    };
    m.viewer().flash(flash);
    Ok(w::redirect(
        &req,
        &format!("{}/groups/{group_id}", settings_base(&m.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/groups/{group_id}/members/order` — `user_id` repeated
/// in the new order, optionally `up` or `down` naming one member to move a step.
pub async fn order_group_members(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let form = form.into_inner();
    let mut order = form.ids("user_id");
    if let Some(id) = form.id("up") {
        move_one(&mut order, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut order, id, false);
    }
    let sid = m.service.id;
    let (group, members) = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let group = Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            Group::set_member_order(c, group_id, &order)?;
            Ok((group, Group::members(c, group_id)?))
        })
        .await?;
    let base = settings_base(&m.service.code);
    if w::is_htmx(&req) {
        let fragment = MemberOrderFragment {
            ctx: PageCtx::console(&m, "group.detail_title"),
            base,
            group,
            members,
        };
        return w::html(StatusCode::OK, &fragment);
    }
    m.viewer()
        .flash(Flash::success(m.viewer().t("group.order_saved")));
    Ok(w::redirect(&req, &format!("{base}/groups/{group_id}")))
}

/// `POST /{service_id}/console/settings/groups/{group_id}/members/remove` — `remove` names the
/// member (the button sits in the order form, whose other fields are ignored here).
pub async fn remove_group_member(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, group_id) = path.into_inner();
    let user_id = form
        .id("remove")
        .ok_or(AppError::BadRequest("error.bad_request"))?;
    let sid = m.service.id;
    m.viewer()
        .state
        .db
        .write(move |c| {
            Group::find(c, sid, group_id)?.ok_or(AppError::NotFound)?;
            Group::remove_member(c, group_id, user_id)?;
            Ok(())
        })
        .await?;
    m.viewer()
        .flash(Flash::success(m.viewer().t("group.member_removed")));
    Ok(w::redirect(
        &req,
        &format!("{}/groups/{group_id}", settings_base(&m.service.code)),
    ))
}
