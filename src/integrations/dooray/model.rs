//! What OpenContact stores about Dooray! (SPEC §3.14, §5.8): the per-service settings
//! ([`Settings`]: transfer enabled, paused, the task templates), the registered Dooray!
//! organizations ([`Org`], the tenant token encrypted with the installation secret), their
//! projects ([`Project`]), the agents' Dooray! member keys per organization, the tasks created
//! from tickets ([`Task`]) and the mirrored task conversation ([`Comment`]). Every function runs
//! inside the caller's connection or transaction; form validation lives here too so the pages
//! and the tests share one rule set.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::common::text::{html_to_text, sanitize_html};
use crate::common::validation::{Report, Violations};
use crate::crypto::SecretKey;
use crate::db::schema::{
    dooray_comments, dooray_member_keys, dooray_orgs, dooray_projects, dooray_settings,
    dooray_tasks,
};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};

/// Dooray's public-cloud API endpoint (the government and finance clouds have their own).
pub const DEFAULT_API_BASE: &str = "https://api.dooray.com";
/// Most Dooray! organizations registered per service.
pub const MAX_ORGS: i64 = 20;
/// Most projects registered per organization.
pub const MAX_PROJECTS: i64 = 100;
/// Longest organization or project name.
pub const MAX_NAME: usize = 100;
/// Longest Dooray! identifier (organization, project, member, tag IDs).
pub const MAX_REF: usize = 64;
/// Longest URL (API endpoint, project address).
pub const MAX_URL: usize = 500;
/// Longest tenant token.
pub const MAX_TOKEN: usize = 512;
/// Longest task subject.
pub const MAX_SUBJECT: usize = 255;
/// Longest task body or comment (characters of sanitised HTML).
pub const MAX_BODY: usize = 100_000;
/// Longest task template.
pub const MAX_TEMPLATE: usize = 20_000;
/// Most tags or assignees on one task.
pub const MAX_IDS: usize = 20;
/// The subject template used until an administrator saves one.
pub const DEFAULT_SUBJECT: &str = "[#{ticketId}] #{subject}";
/// The body template used until an administrator saves one.
pub const DEFAULT_BODY: &str = "<p>#{serviceName} · #{ticketId} · #{customerName}</p><p>#{intakeType}</p><div>#{inquiry}</div>";

/// Whether `s` is a Dooray! identifier: 1–64 letters, digits, `-` or `_`.
pub fn is_ref(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_REF
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether `s` is an absolute http(s) URL with a host, at most [`MAX_URL`] long.
pub fn is_http_url(s: &str) -> bool {
    s.len() <= MAX_URL
        && url::Url::parse(s)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Splits a comma- or space-separated list of Dooray! IDs; `Err` names the first bad one.
pub fn parse_ids(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([',', ' ', '\n', '\r', '\t']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !is_ref(part) {
            return Err(part.chars().take(MAX_REF).collect());
        }
        if !out.iter().any(|p| p == part) {
            out.push(part.to_string());
        }
    }
    Ok(out)
}

/// The service's Dooray! settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Service.
    pub service_id: i64,
    /// Transfer enabled.
    pub enabled: bool,
    /// Paused: everything kept, the transfer button hidden.
    pub paused: bool,
    /// Task subject template (substitution codes).
    pub subject_template: String,
    /// Task body template (sanitised HTML with substitution codes).
    pub body_template: String,
}

impl Settings {
    /// The settings (defaults when never saved: disabled, the default templates).
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<Settings> {
        let row: Option<(bool, bool, String, String)> = dooray_settings::table
            .find(service_id)
            .select((
                dooray_settings::enabled,
                dooray_settings::paused,
                dooray_settings::subject_template,
                dooray_settings::body_template,
            ))
            .first(conn)
            .optional()?;
        let (enabled, paused, subject, body) = row.unwrap_or_default();
        Ok(Settings {
            service_id,
            enabled,
            paused,
            subject_template: if subject.is_empty() {
                DEFAULT_SUBJECT.to_string()
            } else {
                subject
            },
            body_template: if body.trim().is_empty() {
                DEFAULT_BODY.to_string()
            } else {
                body
            },
        })
    }

    /// Stores the settings (one row per service).
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        let t = now();
        let n = diesel::update(dooray_settings::table.find(self.service_id))
            .set((
                dooray_settings::enabled.eq(self.enabled),
                dooray_settings::paused.eq(self.paused),
                dooray_settings::subject_template.eq(&self.subject_template),
                dooray_settings::body_template.eq(&self.body_template),
                dooray_settings::updated_at.eq(t),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(dooray_settings::table)
                .values((
                    dooray_settings::service_id.eq(self.service_id),
                    dooray_settings::enabled.eq(self.enabled),
                    dooray_settings::paused.eq(self.paused),
                    dooray_settings::subject_template.eq(&self.subject_template),
                    dooray_settings::body_template.eq(&self.body_template),
                    dooray_settings::updated_at.eq(t),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Whether agents see the "Dooray! transfer" button (enabled and not paused).
    pub fn transfer_open(&self) -> bool {
        self.enabled && !self.paused
    }
}

/// The settings form as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SettingsForm {
    /// `on` when transfer is enabled.
    #[serde(default)]
    pub enabled: Option<String>,
    /// `on` when paused.
    #[serde(default)]
    pub paused: Option<String>,
    /// Subject template.
    #[serde(default)]
    pub subject_template: String,
    /// Body template.
    #[serde(default)]
    pub body_template: String,
}

/// Checks the settings form: both templates bounded, the subject not empty, and transfer may
/// only be enabled once a project is registered (`has_project`).
pub fn validate_settings(
    form: &SettingsForm,
    service_id: i64,
    has_project: bool,
) -> Result<Settings, Violations> {
    let mut errors = Violations::new();
    let subject = form.subject_template.trim();
    if subject.is_empty() {
        errors.add("subject_template", "validation.required");
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.add_with(
            "subject_template",
            "validation.too_long",
            &[("max", &MAX_SUBJECT.to_string())],
        );
    }
    let body = sanitize_html(&form.body_template.replace("\r\n", "\n"));
    if form.body_template.chars().count() > MAX_TEMPLATE || body.chars().count() > MAX_TEMPLATE {
        errors.add_with(
            "body_template",
            "validation.too_long",
            &[("max", &MAX_TEMPLATE.to_string())],
        );
    }
    let enabled = form.enabled.is_some();
    if enabled && !has_project {
        errors.add("enabled", "dooray.settings.needs_project");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Settings {
        service_id,
        enabled,
        paused: form.paused.is_some(),
        subject_template: subject.to_string(),
        body_template: body,
    })
}

/// A registered Dooray! organization.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dooray_orgs)]
pub struct Org {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Display name.
    pub name: String,
    /// Dooray's organization (tenant) ID, as webhooks send it in `tenant.id`.
    pub tenant_ref: String,
    /// API endpoint, without a trailing slash.
    pub api_base: String,
    /// The tenant token, encrypted.
    pub token_enc: String,
    /// Registered.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// What an organization form yields.
#[derive(Debug, Clone)]
pub struct OrgInput {
    /// Name.
    pub name: String,
    /// Organization (tenant) ID.
    pub tenant_ref: String,
    /// API endpoint.
    pub api_base: String,
    /// A new token (`None`: keep the stored one).
    pub token: Option<String>,
}

/// The organization form as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrgForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Organization (tenant) ID.
    #[serde(default)]
    pub tenant_ref: String,
    /// API endpoint.
    #[serde(default)]
    pub api_base: String,
    /// Tenant token (never rendered back).
    #[serde(default)]
    pub token: String,
}

/// Checks an organization form; `editing` keeps the stored token when none is typed.
pub fn validate_org(form: &OrgForm, editing: bool) -> Result<OrgInput, Violations> {
    let mut errors = Violations::new();
    let name = form.name.trim();
    check_name(&mut errors, "name", name);
    let tenant = form.tenant_ref.trim();
    if tenant.is_empty() {
        errors.add("tenant_ref", "validation.required");
    } else if !is_ref(tenant) {
        errors.add("tenant_ref", "dooray.org.tenant_format");
    }
    let api_base = match form.api_base.trim() {
        "" => DEFAULT_API_BASE,
        s => s,
    }
    .trim_end_matches('/');
    if !is_http_url(api_base) {
        errors.add("api_base", "dooray.org.api_base_format");
    }
    let token = form.token.trim();
    if token.is_empty() {
        if !editing {
            errors.add("token", "validation.required");
        }
    } else if token.len() > MAX_TOKEN || !token.chars().all(|c| c.is_ascii_graphic()) {
        errors.add("token", "dooray.org.token_format");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(OrgInput {
        name: name.to_string(),
        tenant_ref: tenant.to_string(),
        api_base: api_base.to_string(),
        token: (!token.is_empty()).then(|| token.to_string()),
    })
}

fn check_name(errors: &mut dyn Report, field: &str, name: &str) {
    let n = name.chars().count();
    if n == 0 {
        errors.add(field, "validation.required");
    } else if n > MAX_NAME {
        errors.add_with(
            field,
            "validation.too_long",
            &[("max", &MAX_NAME.to_string())],
        );
    }
}

impl Org {
    /// The service's organizations, by name.
    pub fn of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Org>> {
        dooray_orgs::table
            .filter(dooray_orgs::service_id.eq(service_id))
            .order((dooray_orgs::name.asc(), dooray_orgs::id.asc()))
            .limit(MAX_ORGS)
            .select(Org::as_select())
            .load(conn)
    }

    /// One organization of the service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Org>> {
        dooray_orgs::table
            .filter(dooray_orgs::service_id.eq(service_id))
            .filter(dooray_orgs::id.eq(id))
            .select(Org::as_select())
            .first(conn)
            .optional()
    }

    /// The service's organization with a tenant ID.
    pub fn by_tenant(
        conn: &mut DbConn,
        service_id: i64,
        tenant_ref: &str,
    ) -> QueryResult<Option<Org>> {
        dooray_orgs::table
            .filter(dooray_orgs::service_id.eq(service_id))
            .filter(dooray_orgs::tenant_ref.eq(tenant_ref))
            .select(Org::as_select())
            .first(conn)
            .optional()
    }

    /// How many organizations the service has registered.
    pub fn count(conn: &mut DbConn, service_id: i64) -> QueryResult<i64> {
        dooray_orgs::table
            .filter(dooray_orgs::service_id.eq(service_id))
            .count()
            .get_result(conn)
    }

    /// The decrypted tenant token (`None` when it cannot be decrypted).
    pub fn token(&self, secret: &SecretKey) -> Option<String> {
        secret.decrypt(&self.token_enc)
    }

    /// The token as the settings show it: only its last four characters.
    pub fn masked_token(&self, secret: &SecretKey) -> String {
        match self.token(secret) {
            Some(t) => {
                let tail: String = t
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("••••••••{tail}")
            }
            None => "••••••••".to_string(),
        }
    }

    /// Registers an organization; `None` when its tenant ID is already registered.
    pub fn create(
        conn: &mut DbConn,
        secret: &SecretKey,
        service_id: i64,
        input: &OrgInput,
    ) -> QueryResult<Option<i64>> {
        if Org::by_tenant(conn, service_id, &input.tenant_ref)?.is_some() {
            return Ok(None);
        }
        let t = now();
        let token = input.token.as_deref().unwrap_or_default();
        let id = diesel::insert_into(dooray_orgs::table)
            .values((
                dooray_orgs::service_id.eq(service_id),
                dooray_orgs::name.eq(&input.name),
                dooray_orgs::tenant_ref.eq(&input.tenant_ref),
                dooray_orgs::api_base.eq(&input.api_base),
                dooray_orgs::token_enc.eq(secret.encrypt(token)),
                dooray_orgs::created_at.eq(t),
                dooray_orgs::updated_at.eq(t),
            ))
            .returning(dooray_orgs::id)
            .get_result(conn)?;
        Ok(Some(id))
    }

    /// Changes an organization; `false` when the new tenant ID belongs to another one.
    pub fn update(
        &self,
        conn: &mut DbConn,
        secret: &SecretKey,
        input: &OrgInput,
    ) -> QueryResult<bool> {
        if let Some(other) = Org::by_tenant(conn, self.service_id, &input.tenant_ref)?
            && other.id != self.id
        {
            return Ok(false);
        }
        let token_enc = match &input.token {
            Some(t) => secret.encrypt(t),
            None => self.token_enc.clone(),
        };
        diesel::update(dooray_orgs::table.find(self.id))
            .set((
                dooray_orgs::name.eq(&input.name),
                dooray_orgs::tenant_ref.eq(&input.tenant_ref),
                dooray_orgs::api_base.eq(&input.api_base),
                dooray_orgs::token_enc.eq(token_enc),
                dooray_orgs::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(true)
    }

    /// Removes the organization with its projects and member keys (tasks already created keep
    /// their record; webhooks for it are refused from now on).
    pub fn delete(&self, conn: &mut DbConn) -> QueryResult<()> {
        let projects: Vec<i64> = dooray_projects::table
            .filter(dooray_projects::org_id.eq(self.id))
            .select(dooray_projects::id)
            .load(conn)?;
        diesel::update(dooray_tasks::table.filter(dooray_tasks::project_id.eq_any(&projects)))
            .set(dooray_tasks::project_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(dooray_projects::table.filter(dooray_projects::org_id.eq(self.id)))
            .execute(conn)?;
        diesel::delete(dooray_member_keys::table.filter(dooray_member_keys::org_id.eq(self.id)))
            .execute(conn)?;
        diesel::delete(dooray_orgs::table.find(self.id)).execute(conn)?;
        Ok(())
    }
}

/// A registered Dooray! project.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dooray_projects)]
pub struct Project {
    /// Key.
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// Display name.
    pub name: String,
    /// The project's address (`https://{org}.dooray.com/project/{id}`).
    pub url: String,
    /// Dooray's project ID.
    pub project_ref: String,
    /// The default registrant's member ID.
    pub registrant_ref: String,
    /// Registered.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// What a project form yields.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    /// Name.
    pub name: String,
    /// Address.
    pub url: String,
    /// Project ID.
    pub project_ref: String,
    /// Default registrant member ID.
    pub registrant_ref: String,
}

/// The project form as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProjectForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Address.
    #[serde(default)]
    pub url: String,
    /// Project ID (taken from the address when left empty).
    #[serde(default)]
    pub project_ref: String,
    /// Default registrant member ID.
    #[serde(default)]
    pub registrant_ref: String,
}

/// The project ID in a Dooray! project address (`…/project/{id}` or `…/project/projects/{id}`).
pub fn project_ref_of_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let segments: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
    let at = segments.iter().position(|s| *s == "project")?;
    let rest = &segments[at + 1..];
    let id = match rest {
        ["projects", id, ..] => id,
        [id, ..] => id,
        [] => return None,
    };
    is_ref(id).then(|| (*id).to_string())
}

/// Checks a project form.
pub fn validate_project(form: &ProjectForm) -> Result<ProjectInput, Violations> {
    let mut errors = Violations::new();
    let name = form.name.trim();
    check_name(&mut errors, "name", name);
    let url = form.url.trim();
    if url.is_empty() {
        errors.add("url", "validation.required");
    } else if !is_http_url(url) {
        errors.add("url", "dooray.project.url_format");
    }
    let project_ref = match form.project_ref.trim() {
        "" => project_ref_of_url(url).unwrap_or_default(),
        s => s.to_string(),
    };
    if project_ref.is_empty() {
        errors.add("project_ref", "dooray.project.ref_required");
    } else if !is_ref(&project_ref) {
        errors.add("project_ref", "dooray.project.ref_format");
    }
    let registrant = form.registrant_ref.trim();
    if registrant.is_empty() {
        errors.add("registrant_ref", "validation.required");
    } else if !is_ref(registrant) {
        errors.add("registrant_ref", "dooray.project.member_format");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProjectInput {
        name: name.to_string(),
        url: url.to_string(),
        project_ref,
        registrant_ref: registrant.to_string(),
    })
}

impl Project {
    /// An organization's projects, by name.
    pub fn of_org(conn: &mut DbConn, org_id: i64) -> QueryResult<Vec<Project>> {
        dooray_projects::table
            .filter(dooray_projects::org_id.eq(org_id))
            .order((dooray_projects::name.asc(), dooray_projects::id.asc()))
            .limit(MAX_PROJECTS)
            .select(Project::as_select())
            .load(conn)
    }

    /// Every project of the service with its organization, by organization then name.
    pub fn of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<(Org, Project)>> {
        let mut out = Vec::new();
        for org in Org::of_service(conn, service_id)? {
            for p in Project::of_org(conn, org.id)? {
                out.push((org.clone(), p));
            }
        }
        Ok(out)
    }

    /// Whether the service has at least one project.
    pub fn any_in_service(conn: &mut DbConn, service_id: i64) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            dooray_projects::table
                .inner_join(dooray_orgs::table)
                .filter(dooray_orgs::service_id.eq(service_id)),
        ))
        .get_result(conn)
    }

    /// One project of the service with its organization.
    pub fn find(
        conn: &mut DbConn,
        service_id: i64,
        id: i64,
    ) -> QueryResult<Option<(Org, Project)>> {
        let row: Option<(Org, Project)> = dooray_projects::table
            .inner_join(dooray_orgs::table)
            .filter(dooray_orgs::service_id.eq(service_id))
            .filter(dooray_projects::id.eq(id))
            .select((Org::as_select(), Project::as_select()))
            .first(conn)
            .optional()?;
        Ok(row)
    }

    /// The organization's project with a Dooray! project ID.
    pub fn by_ref(
        conn: &mut DbConn,
        org_id: i64,
        project_ref: &str,
    ) -> QueryResult<Option<Project>> {
        dooray_projects::table
            .filter(dooray_projects::org_id.eq(org_id))
            .filter(dooray_projects::project_ref.eq(project_ref))
            .select(Project::as_select())
            .first(conn)
            .optional()
    }

    /// How many projects the organization has.
    pub fn count(conn: &mut DbConn, org_id: i64) -> QueryResult<i64> {
        dooray_projects::table
            .filter(dooray_projects::org_id.eq(org_id))
            .count()
            .get_result(conn)
    }

    /// Registers a project; `None` when its project ID is already registered in the
    /// organization.
    pub fn create(
        conn: &mut DbConn,
        org_id: i64,
        input: &ProjectInput,
    ) -> QueryResult<Option<i64>> {
        if Project::by_ref(conn, org_id, &input.project_ref)?.is_some() {
            return Ok(None);
        }
        let t = now();
        let id = diesel::insert_into(dooray_projects::table)
            .values((
                dooray_projects::org_id.eq(org_id),
                dooray_projects::name.eq(&input.name),
                dooray_projects::url.eq(&input.url),
                dooray_projects::project_ref.eq(&input.project_ref),
                dooray_projects::registrant_ref.eq(&input.registrant_ref),
                dooray_projects::created_at.eq(t),
                dooray_projects::updated_at.eq(t),
            ))
            .returning(dooray_projects::id)
            .get_result(conn)?;
        Ok(Some(id))
    }

    /// Changes a project; `false` when the new project ID belongs to another one.
    pub fn update(&self, conn: &mut DbConn, input: &ProjectInput) -> QueryResult<bool> {
        if let Some(other) = Project::by_ref(conn, self.org_id, &input.project_ref)?
            && other.id != self.id
        {
            return Ok(false);
        }
        diesel::update(dooray_projects::table.find(self.id))
            .set((
                dooray_projects::name.eq(&input.name),
                dooray_projects::url.eq(&input.url),
                dooray_projects::project_ref.eq(&input.project_ref),
                dooray_projects::registrant_ref.eq(&input.registrant_ref),
                dooray_projects::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(true)
    }

    /// Removes the project (tasks keep their record).
    pub fn delete(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::update(dooray_tasks::table.filter(dooray_tasks::project_id.eq(self.id)))
            .set(dooray_tasks::project_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(dooray_projects::table.find(self.id)).execute(conn)?;
        Ok(())
    }

    /// The web address of one of the project's tasks (`{origin}/project/tasks/{post}`), or
    /// empty when the project address has no origin.
    pub fn task_url(&self, post_ref: &str) -> String {
        match url::Url::parse(&self.url) {
            Ok(u) if u.host_str().is_some() => format!(
                "{}/project/tasks/{post_ref}",
                u.origin().ascii_serialization()
            ),
            _ => String::new(),
        }
    }
}

/// The agents' Dooray! member keys of an organization: user → member ID.
pub fn member_keys(conn: &mut DbConn, org_id: i64) -> QueryResult<HashMap<i64, String>> {
    Ok(dooray_member_keys::table
        .filter(dooray_member_keys::org_id.eq(org_id))
        .select((dooray_member_keys::user_id, dooray_member_keys::member_ref))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// One agent's Dooray! member key in an organization.
pub fn member_key(conn: &mut DbConn, org_id: i64, user_id: i64) -> QueryResult<Option<String>> {
    dooray_member_keys::table
        .filter(dooray_member_keys::org_id.eq(org_id))
        .filter(dooray_member_keys::user_id.eq(user_id))
        .select(dooray_member_keys::member_ref)
        .first(conn)
        .optional()
}

/// Stores (or replaces) an agent's member key.
pub fn set_member_key(
    conn: &mut DbConn,
    org_id: i64,
    user_id: i64,
    member_ref: &str,
) -> QueryResult<()> {
    clear_member_key(conn, org_id, user_id)?;
    diesel::insert_into(dooray_member_keys::table)
        .values((
            dooray_member_keys::org_id.eq(org_id),
            dooray_member_keys::user_id.eq(user_id),
            dooray_member_keys::member_ref.eq(member_ref),
            dooray_member_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes an agent's member key.
pub fn clear_member_key(conn: &mut DbConn, org_id: i64, user_id: i64) -> QueryResult<()> {
    diesel::delete(
        dooray_member_keys::table
            .filter(dooray_member_keys::org_id.eq(org_id))
            .filter(dooray_member_keys::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(())
}

text_enum! {
    /// The Dooray! workflow classes a task moves through.
    WorkflowClass label "dooray.workflow." {
        /// Waiting (backlog).
        Backlog => "backlog",
        /// Registered ("to do").
        Registered => "registered",
        /// In progress.
        Working => "working",
        /// Done.
        Closed => "closed",
    }
}

/// A Dooray! task created from a ticket.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dooray_tasks)]
pub struct Task {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Registered project (`None` once the project was removed).
    pub project_id: Option<i64>,
    /// Dooray's organization (tenant) ID.
    pub tenant_ref: String,
    /// Dooray's project ID.
    pub project_ref: String,
    /// Dooray's post (task) ID.
    pub post_ref: String,
    /// `projectCode/number`, when known.
    pub task_number: String,
    /// The task's web address.
    pub web_url: String,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent (sanitised HTML).
    pub body: String,
    /// Last known workflow class.
    pub workflow_class: String,
    /// Last known workflow name.
    pub workflow_name: String,
    /// The member the task was registered as.
    pub registrant_ref: String,
    /// The ticket's current task (older tasks of a re-transferred ticket are inactive).
    pub active: bool,
    /// The transfer form's one-time token (double submission).
    pub client_token: Option<String>,
    /// The transferring agent.
    pub created_by: Option<i64>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// A task to record.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Service.
    pub service_id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Project.
    pub project_id: i64,
    /// Tenant ID.
    pub tenant_ref: String,
    /// Project ID.
    pub project_ref: String,
    /// Post ID.
    pub post_ref: String,
    /// Task number.
    pub task_number: String,
    /// Web address.
    pub web_url: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Workflow class.
    pub workflow_class: String,
    /// Workflow name.
    pub workflow_name: String,
    /// Registrant.
    pub registrant_ref: String,
    /// Form token.
    pub client_token: Option<String>,
    /// Agent.
    pub created_by: i64,
}

impl Task {
    /// The ticket's current task.
    pub fn current(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Option<Task>> {
        dooray_tasks::table
            .filter(dooray_tasks::ticket_id.eq(ticket_id))
            .filter(dooray_tasks::active.eq(true))
            .order(dooray_tasks::id.desc())
            .select(Task::as_select())
            .first(conn)
            .optional()
    }

    /// The ticket's tasks, newest first, at most `limit`.
    pub fn of_ticket(conn: &mut DbConn, ticket_id: i64, limit: i64) -> QueryResult<Vec<Task>> {
        dooray_tasks::table
            .filter(dooray_tasks::ticket_id.eq(ticket_id))
            .order(dooray_tasks::id.desc())
            .limit(limit)
            .select(Task::as_select())
            .load(conn)
    }

    /// The service's tasks with a Dooray! post ID.
    pub fn by_post(conn: &mut DbConn, service_id: i64, post_ref: &str) -> QueryResult<Vec<Task>> {
        dooray_tasks::table
            .filter(dooray_tasks::service_id.eq(service_id))
            .filter(dooray_tasks::post_ref.eq(post_ref))
            .order(dooray_tasks::id.asc())
            .limit(10)
            .select(Task::as_select())
            .load(conn)
    }

    /// The task a transfer form already created (a repeated submission).
    pub fn by_client_token(
        conn: &mut DbConn,
        ticket_id: i64,
        token: &str,
    ) -> QueryResult<Option<Task>> {
        dooray_tasks::table
            .filter(dooray_tasks::ticket_id.eq(ticket_id))
            .filter(dooray_tasks::client_token.eq(token))
            .select(Task::as_select())
            .first(conn)
            .optional()
    }

    /// Records a new task as the ticket's current one (earlier tasks become inactive).
    pub fn insert(conn: &mut DbConn, new: &NewTask) -> QueryResult<i64> {
        diesel::update(dooray_tasks::table.filter(dooray_tasks::ticket_id.eq(new.ticket_id)))
            .set(dooray_tasks::active.eq(false))
            .execute(conn)?;
        let t = now();
        diesel::insert_into(dooray_tasks::table)
            .values((
                dooray_tasks::service_id.eq(new.service_id),
                dooray_tasks::ticket_id.eq(new.ticket_id),
                dooray_tasks::project_id.eq(Some(new.project_id)),
                dooray_tasks::tenant_ref.eq(&new.tenant_ref),
                dooray_tasks::project_ref.eq(&new.project_ref),
                dooray_tasks::post_ref.eq(&new.post_ref),
                dooray_tasks::task_number.eq(&new.task_number),
                dooray_tasks::web_url.eq(&new.web_url),
                dooray_tasks::subject.eq(&new.subject),
                dooray_tasks::body.eq(&new.body),
                dooray_tasks::workflow_class.eq(&new.workflow_class),
                dooray_tasks::workflow_name.eq(&new.workflow_name),
                dooray_tasks::registrant_ref.eq(&new.registrant_ref),
                dooray_tasks::active.eq(true),
                dooray_tasks::client_token.eq(&new.client_token),
                dooray_tasks::created_by.eq(Some(new.created_by)),
                dooray_tasks::created_at.eq(t),
                dooray_tasks::updated_at.eq(t),
            ))
            .returning(dooray_tasks::id)
            .get_result(conn)
    }

    /// Records the task's workflow as a webhook reported it.
    pub fn set_workflow(&self, conn: &mut DbConn, class: &str, name: &str) -> QueryResult<()> {
        diesel::update(dooray_tasks::table.find(self.id))
            .set((
                dooray_tasks::workflow_class.eq(class),
                dooray_tasks::workflow_name.eq(name),
                dooray_tasks::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// The task's number as shown: `projectCode/number`, else its post ID.
    pub fn label(&self) -> String {
        if self.task_number.is_empty() {
            self.post_ref.clone()
        } else {
            self.task_number.clone()
        }
    }
}

/// One message of a task's conversation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dooray_comments)]
pub struct Comment {
    /// Key.
    pub id: i64,
    /// Task.
    pub task_id: i64,
    /// Dooray's comment ID.
    pub comment_ref: String,
    /// Sent from OpenContact (`false`: received through the webhook).
    pub outgoing: bool,
    /// The agent who sent it.
    pub author_id: Option<i64>,
    /// The Dooray! member who wrote it (received comments).
    pub author_name: String,
    /// Sanitised HTML.
    pub body: String,
    /// Recorded.
    pub created_at: NaiveDateTime,
}

/// Records a comment; `false` when a comment with the same Dooray! ID is already recorded
/// for the task (the webhook echoes the comments OpenContact sent).
pub fn add_comment(
    conn: &mut DbConn,
    task_id: i64,
    comment_ref: &str,
    outgoing: bool,
    author_id: Option<i64>,
    author_name: &str,
    body: &str,
) -> QueryResult<bool> {
    if !comment_ref.is_empty() {
        let exists: bool = diesel::select(diesel::dsl::exists(
            dooray_comments::table
                .filter(dooray_comments::task_id.eq(task_id))
                .filter(dooray_comments::comment_ref.eq(comment_ref)),
        ))
        .get_result(conn)?;
        if exists {
            // The webhook may echo a comment OpenContact sent before its own record is
            // written; the sender's record wins.
            if outgoing {
                diesel::update(
                    dooray_comments::table
                        .filter(dooray_comments::task_id.eq(task_id))
                        .filter(dooray_comments::comment_ref.eq(comment_ref)),
                )
                .set((
                    dooray_comments::outgoing.eq(true),
                    dooray_comments::author_id.eq(author_id),
                ))
                .execute(conn)?;
            }
            return Ok(false);
        }
    }
    let author: String = author_name.chars().take(MAX_NAME).collect();
    let body: String = body.chars().take(MAX_BODY).collect();
    diesel::insert_into(dooray_comments::table)
        .values((
            dooray_comments::task_id.eq(task_id),
            dooray_comments::comment_ref.eq(comment_ref),
            dooray_comments::outgoing.eq(outgoing),
            dooray_comments::author_id.eq(author_id),
            dooray_comments::author_name.eq(author),
            dooray_comments::body.eq(body),
            dooray_comments::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The newest comments of some tasks, at most `limit`, oldest first.
pub fn comments_of(conn: &mut DbConn, task_ids: &[i64], limit: i64) -> QueryResult<Vec<Comment>> {
    let mut rows: Vec<Comment> = dooray_comments::table
        .filter(dooray_comments::task_id.eq_any(task_ids))
        .order(dooray_comments::id.desc())
        .limit(limit)
        .select(Comment::as_select())
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// A Dooray! body as stored HTML: HTML is sanitised; Markdown and plain text are escaped with
/// their line breaks kept.
pub fn body_to_html(mime: &str, content: &str) -> String {
    if mime.eq_ignore_ascii_case("text/html") {
        return sanitize_html(content);
    }
    let escaped = crate::common::text::escape_html(content.trim());
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect();
    paragraphs.join("")
}

/// Whether sanitised HTML holds no visible text.
pub fn is_blank_html(html: &str) -> bool {
    html_to_text(html).trim().is_empty()
}
