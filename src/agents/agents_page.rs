//! Service Management → Agents (SPEC §1.3, §3.12): the service's agents with search, adding an
//! existing member, inviting a new member straight into the service, editing an agent's role,
//! permissions, CTI ID/NO, assignment toggles and groups, and removing an agent. Every role or
//! permission change is written to the audit log in the same transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::auth::invite::{Queued, invite_member, queue_account_mail};
use crate::console::shell::settings_base;
use crate::db::schema::users;
use crate::db::types::{Role, TokenPurpose};
use crate::db::types::{ServiceId, UserId};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::org::audit::{self, AuditRecord};
use crate::tenancy::group::Group;
use crate::tenancy::member::{Member, Permissions};
use crate::tenancy::service::Features;
use crate::tenancy::user::{NewUser, User, validate_new_member};
use crate::web::{self as w, AgentManager, Flash, FormErrors, PageCtx};

/// Agents per page of the list.
const PAGE_SIZE: i64 = 50;
/// Candidates shown by the "add existing member" search.
const SEARCH_LIMIT: i64 = 20;
/// Longest search text accepted.
const MAX_QUERY: usize = 100;
/// Longest CTI ID.
const MAX_CTI_ID: usize = 30;
/// Longest CTI NO (extension).
const MAX_CTI_NO: usize = 20;

fn bounded(q: Option<&str>) -> String {
    q.unwrap_or("").trim().chars().take(MAX_QUERY).collect()
}

/// A checkbox on the agent form.
#[derive(Debug, Clone)]
pub struct Check {
    /// Field name.
    pub name: String,
    /// Submitted value.
    pub value: String,
    /// Translated label (or a group name).
    pub label: String,
    /// Ticked.
    pub checked: bool,
}

/// Role, permissions and groups as shown on the add, invite and edit forms.
#[derive(Debug, Clone)]
pub struct AgentFields {
    /// `admin` or `agent`.
    pub role: String,
    /// Consultation channels the service has.
    pub channels: Vec<Check>,
    /// Callback assignment, forward, view, extract.
    pub extras: Vec<Check>,
    /// Ticket/chat assignment toggles and assignment control.
    pub assignment: Vec<Check>,
    /// The service's groups.
    pub groups: Vec<Check>,
    /// CTI ID and NO (edit form only).
    pub cti: Option<Cti>,
}

/// CTI ID and NO as typed.
#[derive(Debug, Clone, Default)]
pub struct Cti {
    /// Phone-server login ID.
    pub id: String,
    /// Extension.
    pub no: String,
}

fn shows_callback(f: &Features) -> bool {
    f.phone || f.callback
}

impl AgentFields {
    fn build(
        lang: Lang,
        features: &Features,
        role: Role,
        p: &Permissions,
        groups: &[Group],
        in_groups: &[i64],
        cti: Option<Cti>,
    ) -> AgentFields {
        let check = |name: &str, key: &str, checked: bool| Check {
            name: name.to_string(),
            value: "on".into(),
            label: i18n::t(lang, key),
            checked,
        };
        let mut channels = vec![check("perm_ticket", "perm.ticket", p.ticket)];
        if features.chat {
            channels.push(check("perm_chat", "perm.chat", p.chat));
        }
        if features.phone {
            channels.push(check("perm_phone", "perm.phone", p.phone));
        }
        let mut extras = Vec::new();
        if shows_callback(features) {
            extras.push(check(
                "perm_callback_assign",
                "perm.callback_assign",
                p.callback_assign,
            ));
        }
        extras.push(check("perm_forward", "perm.forward", p.forward));
        extras.push(check("perm_view_logs", "perm.view_logs", p.view_logs));
        extras.push(check("perm_extract", "perm.extract", p.extract));
        let assignment = vec![
            check(
                "ticket_assignable",
                "perm.ticket_assignable",
                p.ticket_assignable,
            ),
            check("chat_assignable", "perm.chat_assignable", p.chat_assignable),
            check(
                "assignment_control",
                "perm.assignment_control",
                p.assignment_control,
            ),
        ];
        let groups = groups
            .iter()
            .map(|g| Check {
                name: "group_id".into(),
                value: g.id.to_string(),
                label: g.name.clone(),
                checked: in_groups.contains(&g.id),
            })
            .collect();
        AgentFields {
            role: role.as_str().to_string(),
            channels,
            extras,
            assignment,
            groups,
            cti,
        }
    }
}

/// Reads the permission checkboxes. Channels the service does not have keep `base`'s value
/// (their boxes are not shown); phone implies ticket.
fn read_permissions(p: &Pairs, features: &Features, base: Permissions) -> Permissions {
    let mut out = base;
    out.ticket = p.checked("perm_ticket");
    if features.chat {
        out.chat = p.checked("perm_chat");
    }
    if features.phone {
        out.phone = p.checked("perm_phone");
    }
    if shows_callback(features) {
        out.callback_assign = p.checked("perm_callback_assign");
    }
    out.forward = p.checked("perm_forward");
    out.view_logs = p.checked("perm_view_logs");
    out.extract = p.checked("perm_extract");
    out.ticket_assignable = p.checked("ticket_assignable");
    out.chat_assignable = p.checked("chat_assignable");
    out.assignment_control = p.checked("assignment_control");
    enforce_implications(&mut out);
    out
}

/// SPEC §1.3: choosing phone also selects ticket.
fn enforce_implications(p: &mut Permissions) {
    if p.phone {
        p.ticket = true;
    }
}

/// SPEC §1.3: callback assignment only for administrators or agents with phone.
fn check_permissions(errors: &mut FormErrors, role: Role, p: &Permissions) {
    if p.callback_assign && role != Role::Admin && !p.phone {
        errors.add("perm_callback_assign", "agent.callback_needs_phone");
    }
}

fn read_role(p: &Pairs, errors: &mut FormErrors) -> Role {
    match Role::parse(p.get("role")) {
        Some(r) => r,
        None => {
            errors.add("role", "validation.choose_option");
            Role::Agent
        }
    }
}

/// Permissions of a member being added: administrators start from every permission (like
/// [`Member::add_admin`]) plus whatever was ticked; agents get what was ticked.
fn new_member_permissions(p: &Pairs, features: &Features, role: Role) -> Permissions {
    let ticked = read_permissions(p, features, Permissions::default());
    if role == Role::Admin {
        let mut all = Permissions::admin_defaults();
        all.phone = ticked.phone;
        enforce_implications(&mut all);
        all
    } else {
        ticked
    }
}

fn role_and_summary(role: Role, p: &Permissions) -> String {
    format!("{}: {}", role.as_str(), p.summary())
}

/// Who did it and where, for audit rows.
#[derive(Clone)]
struct AuditCtx {
    actor: User,
    service_id: i64,
    service_code: String,
}

impl AuditCtx {
    fn of(m: &AgentManager) -> AuditCtx {
        AuditCtx {
            actor: m.user().clone(),
            service_id: m.service.id,
            service_code: m.service.code.clone(),
        }
    }

    fn record(
        &self,
        conn: &mut DbConn,
        target: &User,
        operation: &str,
        before: String,
        after: String,
    ) -> QueryResult<()> {
        audit::record(
            conn,
            AuditRecord {
                service: Some((self.service_id, &self.service_code)),
                actor: &self.actor,
                target,
                operation,
                before,
                after,
            },
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The list

/// One row of the agents list.
#[derive(Debug, Clone)]
pub struct AgentRow {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// E-mail.
    pub email: String,
    /// Role label key.
    pub role_key: String,
    /// Whether the member is an administrator here.
    pub is_admin: bool,
    /// Label keys of the granted permissions.
    pub permissions: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// CTI ID.
    pub cti_id: String,
    /// CTI NO.
    pub cti_no: String,
    /// Ticket assignment on.
    pub ticket_assignable: bool,
    /// Chat assignment on.
    pub chat_assignable: bool,
    /// Has not accepted the invitation yet.
    pub invited: bool,
    /// Deactivated in the organization.
    pub inactive: bool,
}

/// The agents list.
#[derive(Template)]
#[template(path = "agents/agents.html")]
pub struct AgentsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Service name.
    pub service_name: String,
    /// Search text.
    pub q: String,
    /// Agents on this page.
    pub rows: Vec<AgentRow>,
    /// Link to the next page.
    pub next: Option<String>,
}

/// Query of the agents list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

/// `GET /{service_id}/console/settings/agents`
pub async fn list_agents(
    m: AgentManager,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = bounded(query.q.as_deref());
    let after = query.after.as_deref().and_then(|a| a.trim().parse().ok());
    let sid = m.service.id;
    let q2 = q.clone();
    let (mut found, groups) = m
        .viewer()
        .state
        .db
        .read(move |c| {
            let found = Member::list_agents(c, sid, &q2, after, PAGE_SIZE + 1)?;
            let ids: Vec<i64> = found.iter().map(|(u, _)| u.id).collect();
            let groups = Group::names_by_member(c, sid, &ids)?;
            Ok((found, groups))
        })
        .await?;
    let base = settings_base(&m.service.code);
    let next = if found.len() as i64 > PAGE_SIZE {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|(u, _)| {
            format!(
                "{base}/agents?q={}&after={}",
                crate::common::text::url_encode(&q),
                u.id
            )
        })
    } else {
        None
    };
    let rows = found
        .into_iter()
        .map(|(u, mem)| {
            let p = mem.permissions();
            AgentRow {
                user_id: u.id,
                is_admin: mem.role() == Role::Admin,
                role_key: format!("role.{}", mem.role().as_str()),
                permissions: p
                    .granted()
                    .iter()
                    .filter(|c| **c != "assignment_control")
                    .map(|c| format!("perm.{c}"))
                    .collect(),
                groups: groups.get(&u.id).cloned().unwrap_or_default(),
                cti_id: u.cti_id.clone().unwrap_or_default(),
                cti_no: u.cti_no.clone().unwrap_or_default(),
                ticket_assignable: mem.ticket_assignable,
                chat_assignable: mem.chat_assignable,
                invited: !u.has_password(),
                inactive: !u.active,
                name: u.name,
                login: u.login,
                email: u.email,
            }
        })
        .collect();
    let page = AgentsPage {
        ctx: PageCtx::console(&m, "agent.list_title"),
        base,
        service_name: m.service.name.clone(),
        q,
        rows,
        next,
    };
    w::html(StatusCode::OK, &page)
}

// ---------------------------------------------------------------------------------------------
// Adding an existing member

/// A member found by the search.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// E-mail.
    pub email: String,
    /// Already in this service.
    pub member: bool,
}

/// The "add an existing member" page: search, then the role and permissions of the chosen one.
#[derive(Template)]
#[template(path = "agents/agent_add.html")]
pub struct AddPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Search text.
    pub q: String,
    /// Search text, URL-encoded (for links that keep the search).
    pub q_param: String,
    /// Whether a search ran.
    pub searched: bool,
    /// Search results.
    pub candidates: Vec<Candidate>,
    /// The member being added.
    pub chosen: Option<Candidate>,
    /// Role and permissions.
    pub fields: AgentFields,
    /// Field errors.
    pub errors: FormErrors,
}

/// Query of the add page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AddQuery {
    q: Option<String>,
    user: Option<String>,
}

fn candidate(u: &User, member: bool) -> Candidate {
    Candidate {
        id: u.id,
        name: u.name.clone(),
        login: u.login.clone(),
        email: u.email.clone(),
        member,
    }
}

/// `GET /{service_id}/console/settings/agents/add`
pub async fn add_agent_form(
    m: AgentManager,
    query: web::Query<AddQuery>,
) -> Result<HttpResponse, AppError> {
    let q = bounded(query.q.as_deref());
    let chosen_id: Option<i64> = query.user.as_deref().and_then(|u| u.trim().parse().ok());
    let sid = m.service.id;
    let q2 = q.clone();
    let (candidates, chosen, groups) = m
        .viewer()
        .state
        .db
        .read(move |c| {
            let mut candidates = Vec::new();
            if !q2.is_empty() {
                for u in User::search(c, &q2, SEARCH_LIMIT)?
                    .into_iter()
                    .filter(|u| u.active)
                {
                    let member = Member::find(c, ServiceId(sid), UserId(u.id))?.is_some();
                    candidates.push(candidate(&u, member));
                }
            }
            let chosen = match chosen_id {
                Some(id) => match User::find(c, UserId(id))?.filter(|u| u.active) {
                    Some(u) => Some(candidate(
                        &u,
                        Member::find(c, ServiceId(sid), UserId(id))?.is_some(),
                    )),
                    None => None,
                },
                None => None,
            };
            Ok((candidates, chosen, Group::of_service(c, sid)?))
        })
        .await?;
    let lang = m.viewer().lang;
    let fields = AgentFields::build(
        lang,
        &m.service.features(),
        Role::Agent,
        &Permissions::agent_defaults(),
        &groups,
        &[],
        None,
    );
    let page = AddPage {
        ctx: PageCtx::console(&m, "agent.add_title"),
        base: settings_base(&m.service.code),
        searched: !q.is_empty(),
        q_param: crate::common::text::url_encode(&q),
        q,
        candidates,
        chosen: chosen.filter(|c| !c.member),
        fields,
        errors: FormErrors::new(lang),
    };
    w::html(StatusCode::OK, &page)
}

/// Outcome of a form action: done, or the errors and what to show again.
enum Outcome<T, E = FormErrors> {
    Done(T),
    Invalid(E),
}

/// `POST /{service_id}/console/settings/agents/add`
pub async fn add_agent(
    req: HttpRequest,
    m: AgentManager,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = m.viewer().lang;
    let features = m.service.features();
    let audit_ctx = AuditCtx::of(&m);
    let sid = m.service.id;
    let user_id = form.id("user_id");
    let f2 = form.clone();
    let feats = features.clone();
    let outcome = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let mut errors = FormErrors::new(lang);
            let Some(user) = user_id
                .map(|id| User::find(c, UserId(id)))
                .transpose()?
                .flatten()
            else {
                return Err(AppError::NotFound);
            };
            if !user.active {
                errors.add("user_id", "agent.inactive_member");
            } else if Member::find(c, ServiceId(sid), UserId(user.id))?.is_some() {
                errors.add("user_id", "agent.already_member");
            }
            let role = read_role(&f2, &mut errors);
            let perms = new_member_permissions(&f2, &feats, role);
            check_permissions(&mut errors, role, &perms);
            if !errors.is_empty() {
                return Ok(Outcome::Invalid(errors));
            }
            Member::add(c, sid, user.id, role, &perms)?;
            Group::set_groups_of_member(c, sid, user.id, &f2.ids("group_id"))?;
            audit_ctx.record(
                c,
                &user,
                "agent_added",
                "none".into(),
                role_and_summary(role, &perms),
            )?;
            Ok(Outcome::Done(user))
        })
        .await?;
    match outcome {
        Outcome::Done(user) => {
            m.viewer().flash(Flash::success(i18n::tf(
                lang,
                "agent.added",
                &[("name", &user.name)],
            )));
            Ok(w::redirect(
                &req,
                &format!("{}/agents", settings_base(&m.service.code)),
            ))
        }
        Outcome::Invalid(errors) => {
            let sid = m.service.id;
            let uid = user_id.unwrap_or_default();
            let (chosen, groups) = m
                .viewer()
                .state
                .db
                .read(move |c| {
                    let chosen = User::find(c, UserId(uid))?
                        .map(|u| {
                            Ok::<_, AppError>(candidate(
                                &u,
                                Member::find(c, ServiceId(sid), UserId(uid))?.is_some(),
                            ))
                        })
                        .transpose()?;
                    Ok((chosen, Group::of_service(c, sid)?))
                })
                .await?;
            let role = Role::parse(form.get("role")).unwrap_or(Role::Agent);
            let perms = read_permissions(&form, &features, Permissions::default());
            let fields = AgentFields::build(
                lang,
                &features,
                role,
                &perms,
                &groups,
                &form.ids("group_id"),
                None,
            );
            let page = AddPage {
                ctx: PageCtx::console(&m, "agent.add_title"),
                base: settings_base(&m.service.code),
                q: String::new(),
                q_param: String::new(),
                searched: false,
                candidates: Vec::new(),
                chosen,
                fields,
                errors,
            };
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inviting a new member into the service

/// The invitation form's account fields.
#[derive(Debug, Clone, Default)]
pub struct InviteValues {
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// E-mail.
    pub email: String,
    /// UI language code.
    pub ui_lang: String,
}

/// The "invite a new member" page.
#[derive(Template)]
#[template(path = "agents/agent_invite.html")]
pub struct InvitePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Account fields.
    pub values: InviteValues,
    /// Role and permissions.
    pub fields: AgentFields,
    /// Field errors.
    pub errors: FormErrors,
}

async fn service_groups(m: &AgentManager) -> Result<Vec<Group>, AppError> {
    let sid = m.service.id;
    m.viewer()
        .state
        .db
        .read(move |c| Ok(Group::of_service(c, sid)?))
        .await
}

/// `GET /{service_id}/console/settings/agents/invite`
pub async fn invite_agent_form(m: AgentManager) -> Result<HttpResponse, AppError> {
    let lang = m.viewer().lang;
    let groups = service_groups(&m).await?;
    let page = InvitePage {
        ctx: PageCtx::console(&m, "agent.invite_title"),
        base: settings_base(&m.service.code),
        values: InviteValues {
            ui_lang: lang.code().to_string(),
            ..InviteValues::default()
        },
        fields: AgentFields::build(
            lang,
            &m.service.features(),
            Role::Agent,
            &Permissions::agent_defaults(),
            &groups,
            &[],
            None,
        ),
        errors: FormErrors::new(lang),
    };
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/agents/invite`
pub async fn invite_agent(
    req: HttpRequest,
    m: AgentManager,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = m.viewer().lang;
    let features = m.service.features();
    let audit_ctx = AuditCtx::of(&m);
    let sid = m.service.id;
    let values = InviteValues {
        name: form.get("name").trim().to_string(),
        login: form.get("login").trim().to_string(),
        email: form.get("email").trim().to_string(),
        ui_lang: form.get("ui_lang").to_string(),
    };
    let (f2, v2, feats) = (form.clone(), values.clone(), features.clone());
    let org_name = m
        .viewer()
        .org
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_else(|| "OpenContact".into());
    let base_url = m.viewer().state.config.base_url.clone();
    let outcome = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let mut errors = FormErrors::new(lang);
            validate_new_member(c, &mut errors, &v2.login, &v2.name, &v2.email)?;
            let ui_lang = Lang::parse(&v2.ui_lang);
            if ui_lang.is_none() {
                errors.add("ui_lang", "validation.choose_option");
            }
            let role = read_role(&f2, &mut errors);
            let perms = new_member_permissions(&f2, &feats, role);
            check_permissions(&mut errors, role, &perms);
            let Some(ui_lang) = ui_lang.filter(|_| errors.is_empty()) else {
                return Ok(Outcome::Invalid(errors));
            };
            let (user, token) = invite_member(
                c,
                &NewUser {
                    login: v2.login.clone(),
                    name: v2.name.clone(),
                    email: v2.email.clone(),
                    ui_lang,
                    password: None,
                    is_org_admin: false,
                },
            )?;
            Member::add(c, sid, user.id, role, &perms)?;
            Group::set_groups_of_member(c, sid, user.id, &f2.ids("group_id"))?;
            audit_ctx.record(
                c,
                &user,
                "agent_added",
                "none".into(),
                role_and_summary(role, &perms),
            )?;
            let queued = queue_account_mail(
                c,
                Some(sid),
                &base_url,
                &user,
                TokenPurpose::Invite,
                &token,
                &org_name,
            )?;
            Ok(Outcome::Done((user, queued)))
        })
        .await?;
    match outcome {
        Outcome::Done((user, queued)) => {
            let args = [("name", user.name.as_str()), ("email", user.email.as_str())];
            let flash = match queued {
                Queued::Queued => {
                    Flash::success(i18n::tf(lang, "outbox.agent_invite_queued", &args))
                }
                Queued::NoRelay => {
                    Flash::error(i18n::tf(lang, "outbox.agent_invite_no_relay", &args))
                }
            };
            m.viewer().flash(flash);
            Ok(w::redirect(
                &req,
                &format!("{}/agents", settings_base(&m.service.code)),
            ))
        }
        Outcome::Invalid(errors) => {
            let groups = service_groups(&m).await?;
            let role = Role::parse(form.get("role")).unwrap_or(Role::Agent);
            let perms = read_permissions(&form, &features, Permissions::default());
            let page = InvitePage {
                ctx: PageCtx::console(&m, "agent.invite_title"),
                base: settings_base(&m.service.code),
                values,
                fields: AgentFields::build(
                    lang,
                    &features,
                    role,
                    &perms,
                    &groups,
                    &form.ids("group_id"),
                    None,
                ),
                errors,
            };
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Editing and removing

/// Who is being edited.
#[derive(Debug, Clone)]
pub struct AgentHead {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
    /// E-mail.
    pub email: String,
    /// Has not accepted the invitation yet.
    pub invited: bool,
}

/// The agent edit page.
#[derive(Template)]
#[template(path = "agents/agent_edit.html")]
pub struct EditPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// The agent.
    pub agent: AgentHead,
    /// Role, permissions, CTI and groups.
    pub fields: AgentFields,
    /// Field errors (including `remove` for a refused removal).
    pub errors: FormErrors,
}

fn head(u: &User) -> AgentHead {
    AgentHead {
        user_id: u.id,
        name: u.name.clone(),
        login: u.login.clone(),
        email: u.email.clone(),
        invited: !u.has_password(),
    }
}

/// Loads an agent of the service, or 404.
fn load_agent(
    conn: &mut DbConn,
    service_id: i64,
    user_id: i64,
) -> Result<(User, Member), AppError> {
    let member =
        Member::find(conn, ServiceId(service_id), UserId(user_id))?.ok_or(AppError::NotFound)?;
    let user = User::find(conn, UserId(user_id))?.ok_or(AppError::NotFound)?;
    Ok((user, member))
}

async fn render_edit(
    m: &AgentManager,
    user_id: i64,
    shown: Option<(Role, Permissions, String, String, Vec<i64>)>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = m.service.id;
    let (user, member, groups, in_groups) = m
        .viewer()
        .state
        .db
        .read(move |c| {
            let (user, member) = load_agent(c, sid, user_id)?;
            let groups = Group::of_service(c, sid)?;
            let in_groups = Group::ids_of_member(c, sid, user_id)?;
            Ok((user, member, groups, in_groups))
        })
        .await?;
    let (role, perms, cti_id, cti_no, in_groups) = shown.unwrap_or_else(|| {
        (
            member.role(),
            member.permissions(),
            user.cti_id.clone().unwrap_or_default(),
            user.cti_no.clone().unwrap_or_default(),
            in_groups,
        )
    });
    let lang = m.viewer().lang;
    let page = EditPage {
        ctx: PageCtx::console(m, "agent.edit_title"),
        base: settings_base(&m.service.code),
        agent: head(&user),
        fields: AgentFields::build(
            lang,
            &m.service.features(),
            role,
            &perms,
            &groups,
            &in_groups,
            Some(Cti {
                id: cti_id,
                no: cti_no,
            }),
        ),
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/agents/{user_id}`
pub async fn edit_agent_form(
    m: AgentManager,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, user_id) = path.into_inner();
    let lang = m.viewer().lang;
    render_edit(&m, user_id, None, FormErrors::new(lang), StatusCode::OK).await
}

/// Checks a CTI ID / NO pair: format, length and that no other member uses them.
fn validate_cti(
    conn: &mut DbConn,
    errors: &mut FormErrors,
    user_id: i64,
    cti_id: &str,
    cti_no: &str,
) -> QueryResult<()> {
    if !cti_id.is_empty() {
        if cti_id.chars().count() > MAX_CTI_ID
            || !cti_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            errors.add("cti_id", "agent.cti_id_format");
        } else {
            let taken: i64 = users::table
                .filter(users::cti_id.eq(cti_id))
                .filter(users::id.ne(user_id))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                errors.add("cti_id", "agent.cti_id_taken");
            }
        }
    }
    if !cti_no.is_empty() {
        if cti_no.chars().count() > MAX_CTI_NO || !cti_no.chars().all(|c| c.is_ascii_digit()) {
            errors.add("cti_no", "agent.cti_no_format");
        } else {
            let taken: i64 = users::table
                .filter(users::cti_no.eq(cti_no))
                .filter(users::id.ne(user_id))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                errors.add("cti_no", "agent.cti_no_taken");
            }
        }
    }
    Ok(())
}

/// Stores CTI ID / NO. A concurrent save that took the same value between the check and this
/// write trips the unique index; the savepoint keeps the transaction usable and the clash
/// becomes the same field message as the check's.
fn save_cti(
    conn: &mut DbConn,
    errors: &mut FormErrors,
    user_id: i64,
    cti_id: &str,
    cti_no: &str,
) -> QueryResult<()> {
    let saved = conn.transaction(|c| {
        diesel::update(users::table.find(user_id))
            .set((
                users::cti_id.eq(non_empty(cti_id)),
                users::cti_no.eq(non_empty(cti_no)),
                users::updated_at.eq(now()),
            ))
            .execute(c)
    });
    match saved {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        )) => {
            let detail = format!(
                "{} {}",
                info.message(),
                info.constraint_name().unwrap_or("")
            );
            if detail.contains("cti_no") {
                errors.add("cti_no", "agent.cti_no_taken");
            } else {
                errors.add("cti_id", "agent.cti_id_taken");
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

/// `POST /{service_id}/console/settings/agents/{user_id}`
pub async fn update_agent(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, user_id) = path.into_inner();
    let form = form.into_inner();
    let lang = m.viewer().lang;
    let features = m.service.features();
    let audit_ctx = AuditCtx::of(&m);
    let sid = m.service.id;
    let cti_id: String = form.get("cti_id").trim().to_string();
    let cti_no: String = form.get("cti_no").trim().to_string();
    let group_ids = form.ids("group_id");
    let (f2, feats, ci, cn, gids) = (
        form.clone(),
        features.clone(),
        cti_id.clone(),
        cti_no.clone(),
        group_ids.clone(),
    );
    let outcome = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let (user, member) = load_agent(c, sid, user_id)?;
            let mut errors = FormErrors::new(lang);
            let role = read_role(&f2, &mut errors);
            let before = member.permissions();
            let perms = read_permissions(&f2, &feats, before);
            check_permissions(&mut errors, role, &perms);
            if member.role() == Role::Admin
                && role != Role::Admin
                && Member::count_admins(c, sid)? <= 1
            {
                errors.add("role", "agent.last_admin_demote");
            }
            validate_cti(c, &mut errors, user_id, &ci, &cn)?;
            if errors.is_empty() {
                // First write of the action, so a refusal leaves nothing half-saved.
                save_cti(c, &mut errors, user_id, &ci, &cn)?;
            }
            if !errors.is_empty() {
                return Ok(Outcome::Invalid((errors, role, perms)));
            }
            Member::update(c, member.id, role, &perms)?;
            if role != member.role() {
                audit_ctx.record(
                    c,
                    &user,
                    "agent_role_changed",
                    member.role().as_str().into(),
                    role.as_str().into(),
                )?;
            }
            if before.summary() != perms.summary() {
                audit_ctx.record(
                    c,
                    &user,
                    "agent_permissions_changed",
                    before.summary(),
                    perms.summary(),
                )?;
            }
            Group::set_groups_of_member(c, sid, user_id, &gids)?;
            Ok(Outcome::Done((user, role)))
        })
        .await?;
    match outcome {
        Outcome::Done((user, role)) => {
            m.viewer().flash(Flash::success(i18n::tf(
                lang,
                "agent.saved",
                &[("name", &user.name)],
            )));
            let me = m.user();
            let still_manager = me.is_org_admin || me.id != user_id || role == Role::Admin;
            let to = if still_manager {
                format!("{}/agents", settings_base(&m.service.code))
            } else {
                format!("/{}/console/", m.service.code)
            };
            Ok(w::redirect(&req, &to))
        }
        Outcome::Invalid((errors, role, perms)) => {
            render_edit(
                &m,
                user_id,
                Some((role, perms, cti_id, cti_no, group_ids)),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/settings/agents/{user_id}/remove`
pub async fn remove_agent(
    req: HttpRequest,
    m: AgentManager,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, user_id) = path.into_inner();
    let lang = m.viewer().lang;
    let audit_ctx = AuditCtx::of(&m);
    let sid = m.service.id;
    let outcome = m
        .viewer()
        .state
        .db
        .write(move |c| {
            let (user, member) = load_agent(c, sid, user_id)?;
            if member.role() == Role::Admin && Member::count_admins(c, sid)? <= 1 {
                let mut errors = FormErrors::new(lang);
                errors.add("remove", "agent.last_admin_remove");
                return Ok(Outcome::Invalid(errors));
            }
            Member::remove(c, sid, user_id)?;
            audit_ctx.record(
                c,
                &user,
                "agent_removed",
                role_and_summary(member.role(), &member.permissions()),
                "none".into(),
            )?;
            Ok(Outcome::Done(user))
        })
        .await?;
    match outcome {
        Outcome::Done(user) => {
            m.viewer().flash(Flash::success(i18n::tf(
                lang,
                "agent.removed",
                &[("name", &user.name)],
            )));
            let me = m.user();
            let to = if me.id == user_id && !me.is_org_admin {
                "/".to_string()
            } else {
                format!("{}/agents", settings_base(&m.service.code))
            };
            Ok(w::redirect(&req, &to))
        }
        Outcome::Invalid(errors) => {
            render_edit(&m, user_id, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
