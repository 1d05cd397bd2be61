//! Service Management → External channels → Dooray! (SPEC §3.14), for the service's
//! administrators, in consultation and issue-management services:
//!
//! - the transfer switch and the pause (pausing keeps everything and only hides the
//!   "Dooray! transfer" button), the task subject and body templates (substitution codes), and
//!   the webhook URL to paste into the Dooray! project's outgoing webhook;
//! - the registered Dooray! organizations (name, organization ID, API endpoint, tenant token —
//!   encrypted at rest, shown masked, kept when left empty on edit) and their projects (name,
//!   address, project ID — read from the address when left empty — and the default
//!   registrant's member ID);
//! - the agents' Dooray! user keys per organization: issued by looking the agents' e-mail
//!   addresses up in Dooray! when the organization is registered, and later with "Generate"
//!   (for everyone or one agent).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use super::client::{Api, Failure, MEMBERS_PAGE};
use super::model::{
    self, MAX_ORGS, MAX_PROJECTS, Org, OrgForm, Project, ProjectForm, Settings, SettingsForm,
};
use crate::AppState;
use crate::console::shell::settings_base;
use crate::db::refuse;
use crate::db::schema::{service_members, users};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Most agents listed for member keys.
const MAX_AGENTS: i64 = 500;

/// `/{service}/console/settings/dooray`
pub fn base(code: &str) -> String {
    format!("{}/dooray", settings_base(code))
}

/// The URL to paste into the Dooray! project's outgoing webhook.
pub fn webhook_url(base_url: &str, code: &str) -> String {
    format!(
        "{}/{code}/api/v2/dooray/hook",
        base_url.trim_end_matches('/')
    )
}

/// An organization in the lists.
#[derive(Debug, Clone)]
pub struct OrgRow {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Organization ID.
    pub tenant_ref: String,
    /// API endpoint.
    pub api_base: String,
    /// The token, masked.
    pub token: String,
    /// Its page.
    pub href: String,
    /// Projects registered.
    pub projects: usize,
}

/// The settings form's values as shown.
#[derive(Debug, Clone)]
pub struct SettingsValues {
    /// Transfer enabled.
    pub enabled: bool,
    /// Paused.
    pub paused: bool,
    /// Subject template.
    pub subject_template: String,
    /// Body template.
    pub body_template: String,
}

/// The Dooray! settings page.
#[derive(Template)]
#[template(path = "dooray/settings.html")]
pub struct SettingsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/settings/dooray`
    pub base: String,
    /// The webhook URL.
    pub webhook_url: String,
    /// The form.
    pub form: SettingsValues,
    /// Its errors.
    pub errors: FormErrors,
    /// Organizations.
    pub orgs: Vec<OrgRow>,
    /// Whether another organization may be registered.
    pub can_add_org: bool,
    /// The substitution-code catalogue.
    pub codes_href: String,
}

/// The "register an organization" page.
#[derive(Template)]
#[template(path = "dooray/org_new.html")]
pub struct OrgNewPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/settings/dooray`
    pub base: String,
    /// Values (the token is never rendered back).
    pub form: OrgForm,
    /// Errors.
    pub errors: FormErrors,
    /// The default API endpoint.
    pub default_api: &'static str,
}

/// A project in an organization's list.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub url: String,
    /// Project ID.
    pub project_ref: String,
    /// Default registrant.
    pub registrant_ref: String,
    /// Its page.
    pub href: String,
}

/// An agent's member key.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// User.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Member ID (empty: none issued).
    pub key: String,
}

/// One organization: its settings, projects and the agents' keys.
#[derive(Template)]
#[template(path = "dooray/org.html")]
pub struct OrgPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/settings/dooray`
    pub base: String,
    /// `…/settings/dooray/orgs/{id}`
    pub org_base: String,
    /// The organization.
    pub org: OrgRow,
    /// Edit form values.
    pub form: OrgForm,
    /// Edit form errors.
    pub errors: FormErrors,
    /// Projects.
    pub projects: Vec<ProjectRow>,
    /// The add-project form.
    pub project_form: ProjectForm,
    /// Its errors.
    pub project_errors: FormErrors,
    /// Whether another project may be added.
    pub can_add_project: bool,
    /// The agents and their keys.
    pub keys: Vec<KeyRow>,
}

/// One project's edit page.
#[derive(Template)]
#[template(path = "dooray/project.html")]
pub struct ProjectPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Back to the organization.
    pub org_base: String,
    /// The organization's name.
    pub org_name: String,
    /// Where the form posts.
    pub action: String,
    /// Values.
    pub form: ProjectForm,
    /// Errors.
    pub errors: FormErrors,
}

fn org_row(a: &ServiceAdmin, o: &Org, projects: usize) -> OrgRow {
    OrgRow {
        id: o.id,
        name: o.name.clone(),
        tenant_ref: o.tenant_ref.clone(),
        api_base: o.api_base.clone(),
        token: o.masked_token(&a.viewer().state.secret),
        href: format!("{}/orgs/{}", base(&a.service.code), o.id),
        projects,
    }
}

async fn settings_page_of(
    a: &ServiceAdmin,
    form: Option<SettingsValues>,
    errors: FormErrors,
) -> Result<SettingsPage, AppError> {
    let sid = a.service.id;
    let (settings, orgs) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let settings = Settings::load(c, sid)?;
            let mut orgs = Vec::new();
            for o in Org::of_service(c, sid)? {
                let n = Project::count(c, o.id)?;
                orgs.push((o, usize::try_from(n).unwrap_or(0)));
            }
            Ok((settings, orgs))
        })
        .await?;
    let code = &a.service.code;
    Ok(SettingsPage {
        ctx: PageCtx::console(a, "dooray.settings.title"),
        base: base(code),
        webhook_url: webhook_url(&a.viewer().state.config.base_url, code),
        form: form.unwrap_or(SettingsValues {
            enabled: settings.enabled,
            paused: settings.paused,
            subject_template: settings.subject_template,
            body_template: settings.body_template,
        }),
        errors,
        can_add_org: (orgs.len() as i64) < MAX_ORGS,
        orgs: orgs.iter().map(|(o, n)| org_row(a, o, *n)).collect(),
        codes_href: format!("{}/substitution-codes", settings_base(code)),
    })
}

/// `GET /{service_id}/console/settings/dooray`
pub async fn settings_page(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let page = settings_page_of(&a, None, FormErrors::new(a.viewer().lang)).await?;
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/dooray`
pub async fn save_settings(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let form = form.into_inner();
    let sid = a.service.id;
    let form2 = form.clone();
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let has_project = Project::any_in_service(c, sid)?;
            match model::validate_settings(&form2, sid, has_project) {
                Ok(s) => {
                    s.save(c)?;
                    Ok(())
                }
                Err(e) => refuse(e),
            }
        })
        .await?;
    match result {
        Ok(()) => {
            a.viewer()
                .flash(Flash::success(i18n::t(lang, "dooray.settings.saved")));
            Ok(w::redirect(&req, &base(&a.service.code)))
        }
        Err(errors) => {
            let values = SettingsValues {
                enabled: form.enabled.is_some(),
                paused: form.paused.is_some(),
                subject_template: form.subject_template,
                body_template: form.body_template,
            };
            let errors = FormErrors::translate(lang, &errors);
            let page = settings_page_of(&a, Some(values), errors).await?;
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

fn new_org_page(a: &ServiceAdmin, mut form: OrgForm, errors: FormErrors) -> OrgNewPage {
    form.token.clear();
    OrgNewPage {
        ctx: PageCtx::console(a, "dooray.org.new_title"),
        base: base(&a.service.code),
        form,
        errors,
        default_api: model::DEFAULT_API_BASE,
    }
}

/// `GET /{service_id}/console/settings/dooray/orgs/new`
pub async fn new_org(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let form = OrgForm {
        api_base: model::DEFAULT_API_BASE.to_string(),
        ..OrgForm::default()
    };
    let page = new_org_page(&a, form, FormErrors::new(a.viewer().lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/dooray/orgs`: registers the organization, then issues
/// the agents' user keys (a Dooray! failure there is reported; the organization stays).
pub async fn create_org(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let form = form.into_inner();
    let input = match model::validate_org(&form, false) {
        Ok(i) => i,
        Err(v) => {
            let page = new_org_page(&a, form, FormErrors::translate(lang, &v));
            return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let sid = a.service.id;
    let secret = a.viewer().state.secret.clone();
    let created = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            if Org::count(c, sid)? >= MAX_ORGS {
                return refuse("dooray.org.too_many");
            }
            match Org::create(c, &secret, sid, &input)? {
                Some(id) => Ok(id),
                None => refuse("dooray.org.tenant_taken"),
            }
        })
        .await?;
    let id = match created {
        Ok(id) => id,
        Err(key) => {
            let mut errors = FormErrors::new(lang);
            errors.add("tenant_ref", key);
            let page = new_org_page(&a, form, errors);
            return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let flash = match issue_keys(&a.viewer().state, sid, id, None).await? {
        Ok((issued, missing)) => Flash::success(i18n::tf(
            lang,
            "dooray.org.created_keys",
            &[
                ("issued", &issued.to_string()),
                ("missing", &missing.to_string()),
            ],
        )),
        Err((f, api)) => Flash::error(i18n::tf(
            lang,
            "dooray.org.created_keys_failed",
            &[("reason", &f.message(lang, &api))],
        )),
    };
    a.viewer().flash(flash);
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{id}", base(&a.service.code)),
    ))
}

/// Looks the service's agents (or one of them) up in the organization by e-mail and stores
/// the member IDs found; returns how many were issued and how many addresses Dooray! did not
/// know, or the failure with the API endpoint.
async fn issue_keys(
    state: &web::Data<AppState>,
    service_id: i64,
    org_id: i64,
    only: Option<i64>,
) -> Result<Result<(usize, usize), (Failure, String)>, AppError> {
    let Some((org, agents)) = state
        .db
        .read(move |c| {
            let Some(org) = Org::find(c, service_id, org_id)? else {
                return Ok(None);
            };
            let agents: Vec<(i64, String)> = agent_rows(c, service_id)?
                .into_iter()
                .filter(|(id, _, _)| only.is_none_or(|o| o == *id))
                .map(|(id, _, email)| (id, email.to_lowercase()))
                .filter(|(_, email)| !email.is_empty())
                .collect();
            Ok(Some((org, agents)))
        })
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let token = org.token(&state.secret).unwrap_or_default();
    let api = Api::new(&org.api_base, &token, state.config.timeouts.dooray);
    let mut found: Vec<(i64, String)> = Vec::new();
    for chunk in agents.chunks(MEMBERS_PAGE) {
        let emails: Vec<String> = chunk.iter().map(|(_, e)| e.clone()).collect();
        match api.members_by_email(&emails).await {
            Ok(members) => {
                for (uid, email) in chunk {
                    if let Some(m) = members.iter().find(|m| m.email.eq_ignore_ascii_case(email)) {
                        found.push((*uid, m.id.chars().take(model::MAX_REF).collect()));
                    }
                }
            }
            Err(f) => return Ok(Err((f, org.api_base.clone()))),
        }
    }
    let issued = found.len();
    let missing = agents.len() - issued;
    state
        .db
        .write(move |c| {
            for (uid, member) in &found {
                if model::is_ref(member) {
                    model::set_member_key(c, org_id, *uid, member)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(Ok((issued, missing)))
}

/// The service's active members: id, name, e-mail (by name).
fn agent_rows(
    c: &mut crate::db::DbConn,
    service_id: i64,
) -> QueryResult<Vec<(i64, String, String)>> {
    service_members::table
        .inner_join(users::table)
        .filter(service_members::service_id.eq(service_id))
        .filter(users::active.eq(true))
        .order((users::name.asc(), users::id.asc()))
        .limit(MAX_AGENTS)
        .select((users::id, users::name, users::email))
        .load(c)
}

struct OrgData {
    org: Org,
    projects: Vec<Project>,
    agents: Vec<(i64, String, String)>,
    keys: std::collections::HashMap<i64, String>,
}

async fn org_data(a: &ServiceAdmin, org_id: i64) -> Result<OrgData, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| {
            let org = Org::find(c, sid, org_id)?.ok_or(AppError::NotFound)?;
            let projects = Project::of_org(c, org.id)?;
            let agents = agent_rows(c, sid)?;
            let keys = model::member_keys(c, org.id)?;
            Ok(OrgData {
                org,
                projects,
                agents,
                keys,
            })
        })
        .await
}

struct OrgState {
    form: Option<OrgForm>,
    errors: Option<FormErrors>,
    project_form: Option<ProjectForm>,
    project_errors: Option<FormErrors>,
}

fn org_page_of(a: &ServiceAdmin, d: OrgData, st: OrgState) -> OrgPage {
    let lang = a.viewer().lang;
    let row = org_row(a, &d.org, d.projects.len());
    let org_base = row.href.clone();
    let mut form = st.form.unwrap_or_else(|| OrgForm {
        name: d.org.name.clone(),
        tenant_ref: d.org.tenant_ref.clone(),
        api_base: d.org.api_base.clone(),
        token: String::new(),
    });
    form.token.clear();
    OrgPage {
        ctx: {
            let mut ctx = PageCtx::console(a, "dooray.org.title");
            ctx.title = format!("{} · {}", ctx.title, d.org.name);
            ctx
        },
        base: base(&a.service.code),
        can_add_project: (d.projects.len() as i64) < MAX_PROJECTS,
        projects: d
            .projects
            .iter()
            .map(|p| ProjectRow {
                id: p.id,
                name: p.name.clone(),
                url: p.url.clone(),
                project_ref: p.project_ref.clone(),
                registrant_ref: p.registrant_ref.clone(),
                href: format!("{org_base}/projects/{}", p.id),
            })
            .collect(),
        keys: d
            .agents
            .iter()
            .map(|(id, name, email)| KeyRow {
                user_id: *id,
                name: name.clone(),
                email: email.clone(),
                key: d.keys.get(id).cloned().unwrap_or_default(),
            })
            .collect(),
        org: row,
        org_base,
        form,
        errors: st.errors.unwrap_or_else(|| FormErrors::new(lang)),
        project_form: st.project_form.unwrap_or_default(),
        project_errors: st.project_errors.unwrap_or_else(|| FormErrors::new(lang)),
    }
}

/// `GET /{service_id}/console/settings/dooray/orgs/{org_id}`
pub async fn org_page(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let d = org_data(&a, path.into_inner().1).await?;
    let page = org_page_of(
        &a,
        d,
        OrgState {
            form: None,
            errors: None,
            project_form: None,
            project_errors: None,
        },
    );
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}`
pub async fn update_org(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let org_id = path.into_inner().1;
    let form = form.into_inner();
    let d = org_data(&a, org_id).await?;
    let refused = |errors: FormErrors, d: OrgData, form: OrgForm| {
        let page = org_page_of(
            &a,
            d,
            OrgState {
                form: Some(form),
                errors: Some(errors),
                project_form: None,
                project_errors: None,
            },
        );
        w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let input = match model::validate_org(&form, true) {
        Ok(i) => i,
        Err(v) => return refused(FormErrors::translate(lang, &v), d, form),
    };
    let secret = a.viewer().state.secret.clone();
    let org = d.org.clone();
    let saved = a
        .viewer()
        .state
        .db
        .write(move |c| Ok(org.update(c, &secret, &input)?))
        .await?;
    if !saved {
        let mut errors = FormErrors::new(lang);
        errors.add("tenant_ref", "dooray.org.tenant_taken");
        return refused(errors, d, form);
    }
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "dooray.org.saved")));
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{org_id}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/delete`
pub async fn delete_org(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let org_id = path.into_inner().1;
    let sid = a.service.id;
    let name = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let org = Org::find(c, sid, org_id)?.ok_or(AppError::NotFound)?;
            org.delete(c)?;
            // Transfer cannot stay enabled without a project to transfer to.
            if !Project::any_in_service(c, sid)? {
                let mut s = Settings::load(c, sid)?;
                if s.enabled {
                    s.enabled = false;
                    s.save(c)?;
                }
            }
            Ok(org.name)
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        a.viewer().lang,
        "dooray.org.deleted",
        &[("name", &name)],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/projects`
pub async fn add_project(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<ProjectForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let org_id = path.into_inner().1;
    let form = form.into_inner();
    let d = org_data(&a, org_id).await?;
    let result = match model::validate_project(&form) {
        Err(v) => Err(FormErrors::translate(lang, &v)),
        Ok(input) => {
            let created = a
                .viewer()
                .state
                .db
                .write_or_refuse(move |c| {
                    if Project::count(c, org_id)? >= MAX_PROJECTS {
                        return refuse(("name", "dooray.project.too_many"));
                    }
                    match Project::create(c, org_id, &input)? {
                        Some(id) => Ok(id),
                        None => refuse(("project_ref", "dooray.project.ref_taken")),
                    }
                })
                .await?;
            created.map_err(|(field, key)| {
                let mut e = FormErrors::new(lang);
                e.add(field, key);
                e
            })
        }
    };
    match result {
        Ok(_) => {
            a.viewer()
                .flash(Flash::success(i18n::t(lang, "dooray.project.added")));
            Ok(w::redirect(
                &req,
                &format!("{}/orgs/{org_id}", base(&a.service.code)),
            ))
        }
        Err(errors) => {
            let page = org_page_of(
                &a,
                d,
                OrgState {
                    form: None,
                    errors: None,
                    project_form: Some(form),
                    project_errors: Some(errors),
                },
            );
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

async fn project_of(
    a: &ServiceAdmin,
    org_id: i64,
    project_id: i64,
) -> Result<(Org, Project), AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| {
            Project::find(c, sid, project_id)?
                .filter(|(o, _)| o.id == org_id)
                .ok_or(AppError::NotFound)
        })
        .await
}

fn project_page_of(
    a: &ServiceAdmin,
    org: &Org,
    project: &Project,
    form: ProjectForm,
    errors: FormErrors,
) -> ProjectPage {
    let org_base = format!("{}/orgs/{}", base(&a.service.code), org.id);
    ProjectPage {
        ctx: {
            let mut ctx = PageCtx::console(a, "dooray.project.title");
            ctx.title = format!("{} · {}", ctx.title, project.name);
            ctx
        },
        action: format!("{org_base}/projects/{}", project.id),
        org_base,
        org_name: org.name.clone(),
        form,
        errors,
    }
}

/// `GET /{service_id}/console/settings/dooray/orgs/{org_id}/projects/{project_id}`
pub async fn project_page(
    a: ServiceAdmin,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, org_id, project_id) = path.into_inner();
    let (org, project) = project_of(&a, org_id, project_id).await?;
    let form = ProjectForm {
        name: project.name.clone(),
        url: project.url.clone(),
        project_ref: project.project_ref.clone(),
        registrant_ref: project.registrant_ref.clone(),
    };
    let page = project_page_of(&a, &org, &project, form, FormErrors::new(a.viewer().lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/projects/{project_id}`
pub async fn update_project(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64, i64)>,
    form: web::Form<ProjectForm>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let (_, org_id, project_id) = path.into_inner();
    let (org, project) = project_of(&a, org_id, project_id).await?;
    let form = form.into_inner();
    let result = match model::validate_project(&form) {
        Err(v) => Err(FormErrors::translate(lang, &v)),
        Ok(input) => {
            let p = project.clone();
            let saved = a
                .viewer()
                .state
                .db
                .write(move |c| Ok(p.update(c, &input)?))
                .await?;
            if saved {
                Ok(())
            } else {
                let mut e = FormErrors::new(lang);
                e.add("project_ref", "dooray.project.ref_taken");
                Err(e)
            }
        }
    };
    match result {
        Ok(()) => {
            a.viewer()
                .flash(Flash::success(i18n::t(lang, "dooray.project.saved")));
            Ok(w::redirect(
                &req,
                &format!("{}/orgs/{org_id}", base(&a.service.code)),
            ))
        }
        Err(errors) => {
            let page = project_page_of(&a, &org, &project, form, errors);
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/projects/{project_id}/delete`
pub async fn delete_project(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, org_id, project_id) = path.into_inner();
    let (_, project) = project_of(&a, org_id, project_id).await?;
    let sid = a.service.id;
    let name = project.name.clone();
    a.viewer()
        .state
        .db
        .write(move |c| {
            project.delete(c)?;
            if !Project::any_in_service(c, sid)? {
                let mut s = Settings::load(c, sid)?;
                if s.enabled {
                    s.enabled = false;
                    s.save(c)?;
                }
            }
            Ok(())
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        a.viewer().lang,
        "dooray.project.deleted",
        &[("name", &name)],
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{org_id}", base(&a.service.code)),
    ))
}

fn keys_flash(lang: Lang, r: Result<(usize, usize), (Failure, String)>) -> Flash {
    match r {
        Ok((issued, missing)) => Flash::success(i18n::tf(
            lang,
            "dooray.keys.issued",
            &[
                ("issued", &issued.to_string()),
                ("missing", &missing.to_string()),
            ],
        )),
        Err((f, api)) => Flash::error(f.message(lang, &api)),
    }
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/keys`: "Generate" for every agent.
pub async fn generate_keys(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let org_id = path.into_inner().1;
    let r = issue_keys(&a.viewer().state, a.service.id, org_id, None).await?;
    a.viewer().flash(keys_flash(a.viewer().lang, r));
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{org_id}#keys", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/keys/{user_id}`: "Generate" for
/// one agent.
pub async fn generate_key(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, org_id, user_id) = path.into_inner();
    let sid = a.service.id;
    let member = a
        .viewer()
        .state
        .db
        .read(move |c| {
            Ok(agent_rows(c, sid)?
                .into_iter()
                .any(|(id, _, _)| id == user_id))
        })
        .await?;
    if !member {
        return Err(AppError::NotFound);
    }
    let r = issue_keys(&a.viewer().state, sid, org_id, Some(user_id)).await?;
    let lang = a.viewer().lang;
    let flash = match r {
        Ok((0, _)) => Flash::error(i18n::t(lang, "dooray.keys.not_found")),
        other => keys_flash(lang, other),
    };
    a.viewer().flash(flash);
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{org_id}#keys", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/dooray/orgs/{org_id}/keys/{user_id}/delete`
pub async fn clear_key(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, org_id, user_id) = path.into_inner();
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| {
            Org::find(c, sid, org_id)?.ok_or(AppError::NotFound)?;
            model::clear_member_key(c, org_id, user_id)?;
            Ok(())
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::t(
        a.viewer().lang,
        "dooray.keys.cleared",
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/orgs/{org_id}#keys", base(&a.service.code)),
    ))
}
