//! Service Management → E-mail accounts (SPEC §3.7, consultation services, service
//! administrators): the IMAP accounts whose mail becomes tickets, with their state (enabled,
//! last poll, last failure); adding and editing an account verifies the connection first and
//! says exactly which step failed; enabling, disabling, deleting (only a disabled account),
//! fetching now; and the quarantine of messages that could not be imported.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::accounts::{self, AccountInput, MAX_ACCOUNTS, MailAccount, RawAccount, Refusal};
use super::imap::{self, Stage, Target};
use super::import::{self, PollError};
use super::poller::accounts_changed;
use super::quarantine::{self, Quarantined};
use super::representative;
use crate::console::shell::settings_base;
use crate::db::types::ServiceKind;
use crate::error::AppError;
use crate::help_center::attachments;
use crate::i18n::{self, Lang};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Quarantined messages per page.
const QUARANTINE_PAGE: i64 = 50;

fn base(a: &ServiceAdmin) -> String {
    format!("{}/mail-accounts", settings_base(&a.service.code))
}

fn quarantine_base(a: &ServiceAdmin) -> String {
    format!("{}/mail-quarantine", settings_base(&a.service.code))
}

/// The pages exist for consultation services only.
fn consultation(a: &ServiceAdmin) -> Result<(), AppError> {
    if a.service.kind() == ServiceKind::Consultation {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn fmt_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A stored poll failure (`stage: detail`) in the viewer's language.
pub fn explain_error(lang: Lang, account: &MailAccount, stored: &str) -> String {
    const STAGES: [Stage; 7] = [
        Stage::Dns,
        Stage::Connect,
        Stage::Tls,
        Stage::Greeting,
        Stage::Login,
        Stage::Select,
        Stage::Command,
    ];
    if let Some((code, detail)) = stored.split_once(": ")
        && let Some(stage) = STAGES.iter().find(|s| s.code() == code)
    {
        return imap::Failure {
            stage: *stage,
            detail: detail.to_string(),
        }
        .message(lang, &account.target_without_password());
    }
    stored.to_string()
}

impl MailAccount {
    /// The connection target without the password (for messages).
    pub fn target_without_password(&self) -> Target {
        Target {
            host: self.host.clone(),
            port: u16::try_from(self.port).unwrap_or(993),
            ssl: self.use_ssl,
            user: self.address.clone(),
            password: String::new(),
        }
    }
}

/// One account in the list.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// Key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Address.
    pub address: String,
    /// `host:port`.
    pub server: String,
    /// SSL.
    pub ssl: bool,
    /// Delete after import.
    pub delete_after_import: bool,
    /// Enabled.
    pub enabled: bool,
    /// Last poll (empty: never).
    pub last_poll: String,
    /// Last failure, translated (empty after a success).
    pub error: String,
}

/// The accounts page.
#[derive(Template)]
#[template(path = "mail/accounts.html")]
pub struct AccountsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/mail-accounts`
    pub base: String,
    /// `…/mail-quarantine`
    pub quarantine: String,
    /// Accounts.
    pub rows: Vec<AccountRow>,
    /// Whether another account may be added.
    pub can_add: bool,
    /// The representative account's address, once created.
    pub representative: Option<String>,
    /// The installation's mail domain (for the representative account form).
    pub mail_domain: String,
    /// Where the representative account form posts.
    pub rep_action: String,
    /// The local part typed into the representative account form.
    pub rep_local: String,
    /// Errors of the representative account form (`local`).
    pub rep_errors: FormErrors,
}

/// The representative account form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RepresentativeForm {
    /// The local part (`help` for `help@<mail domain>`).
    #[serde(default)]
    pub local: String,
}

/// The add/edit form's values.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AccountForm {
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Host.
    #[serde(default)]
    pub host: String,
    /// Port as typed.
    #[serde(default)]
    pub port: String,
    /// `on` when SSL.
    #[serde(default)]
    pub ssl: Option<String>,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Password (never rendered back).
    #[serde(default)]
    pub password: String,
    /// `on` to delete originals.
    #[serde(default)]
    pub delete_after_import: Option<String>,
}

/// The add/edit form page.
#[derive(Template)]
#[template(path = "mail/account_form.html")]
pub struct AccountFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/mail-accounts`
    pub base: String,
    /// Where the form posts.
    pub action: String,
    /// The account being edited.
    pub account: Option<AccountRow>,
    /// Values.
    pub form: AccountForm,
    /// Errors (`connection` holds the verification failure).
    pub errors: FormErrors,
}

fn row_of(lang: Lang, a: &MailAccount) -> AccountRow {
    AccountRow {
        id: a.id,
        name: a.display_name.clone(),
        address: a.address.clone(),
        server: format!("{}:{}", a.host, a.port),
        ssl: a.use_ssl,
        delete_after_import: a.delete_after_import,
        enabled: a.enabled,
        last_poll: a.last_poll_at.map(fmt_time).unwrap_or_default(),
        error: if a.last_error.is_empty() {
            String::new()
        } else {
            explain_error(lang, a, &a.last_error)
        },
    }
}

async fn render_list(
    a: &ServiceAdmin,
    rep_local: String,
    rep_errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let base_url = a.viewer().state.config.base_url.clone();
    let (accounts, rep, domain) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            Ok((
                MailAccount::of_service(c, sid)?,
                representative::find(c, sid)?,
                representative::platform_domain(c, &base_url)?,
            ))
        })
        .await?;
    let lang = a.viewer().lang;
    let page = AccountsPage {
        ctx: PageCtx::console(a, "imap.title"),
        base: base(a),
        quarantine: quarantine_base(a),
        can_add: (accounts.len() as i64) < MAX_ACCOUNTS,
        rows: accounts.iter().map(|acc| row_of(lang, acc)).collect(),
        representative: rep.map(|r| r.address),
        mail_domain: domain,
        rep_action: format!("{}/mail-representative", settings_base(&a.service.code)),
        rep_local,
        rep_errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/mail-accounts`
pub async fn list_accounts(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let lang = a.viewer().lang;
    render_list(&a, String::new(), FormErrors::new(lang), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/mail-representative` — creates the representative
/// account (once; it cannot be changed afterwards).
pub async fn create_representative(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<RepresentativeForm>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let lang = a.viewer().lang;
    let local: String = form.local.chars().take(200).collect();
    let sid = a.service.id;
    let base_url = a.viewer().state.config.base_url.clone();
    let typed = local.clone();
    let outcome = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let domain = representative::platform_domain(c, &base_url)?;
            Ok(representative::create(c, sid, &typed, &domain)?)
        })
        .await?;
    match outcome {
        Ok(rep) => {
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "openapi.mail.representative.created",
                &[("address", &rep.address)],
            )));
            Ok(w::redirect(&req, &base(&a)))
        }
        Err(refusal) => {
            let mut errors = FormErrors::new(lang);
            errors.add("local", refusal.key());
            render_list(&a, local, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn form_page(
    a: &ServiceAdmin,
    account: Option<&MailAccount>,
    mut form: AccountForm,
    errors: FormErrors,
) -> AccountFormPage {
    form.password.clear();
    let (title, action) = match account {
        Some(acc) => ("imap.edit_title", format!("{}/{}", base(a), acc.id)),
        None => ("imap.new_title", base(a)),
    };
    AccountFormPage {
        ctx: PageCtx::console(a, title),
        base: base(a),
        action,
        account: account.map(|acc| row_of(a.viewer().lang, acc)),
        form,
        errors,
    }
}

/// `GET /{service_id}/console/settings/mail-accounts/new`
pub async fn new_account_form(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let form = AccountForm {
        port: "993".into(),
        ssl: Some("on".into()),
        ..AccountForm::default()
    };
    let page = form_page(&a, None, form, FormErrors::new(a.viewer().lang));
    w::html(StatusCode::OK, &page)
}

/// Checks the form; `editing` is the stored account (its password is kept when none is typed).
pub fn validate(
    form: &AccountForm,
    lang: Lang,
    editing: Option<&MailAccount>,
) -> Result<AccountInput, FormErrors> {
    let raw = RawAccount {
        display_name: &form.display_name,
        host: &form.host,
        port: form.port.trim().parse::<i64>().ok(),
        use_ssl: form.ssl.is_some(),
        address: &form.address,
        password: &form.password,
        delete_after_import: form.delete_after_import.is_some(),
    };
    accounts::check(&raw, editing.is_some()).map_err(|problems| {
        let mut errors = FormErrors::new(lang);
        for p in problems {
            let (key, args) = p.key();
            errors.add_with(p.field(), key, args);
        }
        errors
    })
}

enum Saved {
    Done,
    Invalid(FormErrors),
}

async fn save(
    a: &ServiceAdmin,
    form: &AccountForm,
    editing: Option<MailAccount>,
) -> Result<Saved, AppError> {
    let lang = a.viewer().lang;
    let input = match validate(form, lang, editing.as_ref()) {
        Ok(i) => i,
        Err(e) => return Ok(Saved::Invalid(e)),
    };
    let state = &a.viewer().state;
    match accounts::save_verified(state, a.service.id, input, editing, None).await? {
        Ok(_) => Ok(Saved::Done),
        Err(refusal) => {
            let field = match refusal {
                Refusal::AddressTaken => "address",
                Refusal::TooMany | Refusal::Connection(..) => "connection",
            };
            let mut errors = FormErrors::new(lang);
            errors.add_text(field, refusal.message(lang));
            Ok(Saved::Invalid(errors))
        }
    }
}

/// `POST /{service_id}/console/settings/mail-accounts`
pub async fn create_account(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let form = form.into_inner();
    match save(&a, &form, None).await? {
        Saved::Done => {
            a.viewer().flash(Flash::success(i18n::tf(
                a.viewer().lang,
                "imap.created",
                &[("address", form.address.trim())],
            )));
            Ok(w::redirect(&req, &base(&a)))
        }
        Saved::Invalid(errors) => {
            let page = form_page(&a, None, form, errors);
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

async fn load(a: &ServiceAdmin, id: i64) -> Result<MailAccount, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| Ok(MailAccount::find(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /{service_id}/console/settings/mail-accounts/{id}`
pub async fn edit_account_form(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let acc = load(&a, path.1).await?;
    let form = AccountForm {
        display_name: acc.display_name.clone(),
        host: acc.host.clone(),
        port: acc.port.to_string(),
        ssl: acc.use_ssl.then(|| "on".to_string()),
        address: acc.address.clone(),
        password: String::new(),
        delete_after_import: acc.delete_after_import.then(|| "on".to_string()),
    };
    let page = form_page(&a, Some(&acc), form, FormErrors::new(a.viewer().lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/mail-accounts/{id}`
pub async fn update_account(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let acc = load(&a, path.1).await?;
    let form = form.into_inner();
    match save(&a, &form, Some(acc.clone())).await? {
        Saved::Done => {
            a.viewer().flash(Flash::success(a.viewer().t("imap.saved")));
            Ok(w::redirect(&req, &base(&a)))
        }
        Saved::Invalid(errors) => {
            let page = form_page(&a, Some(&acc), form, errors);
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

async fn set_enabled(
    req: HttpRequest,
    a: ServiceAdmin,
    id: i64,
    enabled: bool,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let acc = load(&a, id).await?;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(MailAccount::set_enabled(c, acc.id, enabled)?))
        .await?;
    accounts_changed();
    let key = if enabled {
        "imap.enabled_done"
    } else {
        "imap.disabled_done"
    };
    a.viewer().flash(Flash::success(i18n::tf(
        a.viewer().lang,
        key,
        &[("name", &acc.display_name)],
    )));
    Ok(w::redirect(&req, &base(&a)))
}

/// `POST /{service_id}/console/settings/mail-accounts/{id}/enable`
pub async fn enable_account(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, a, path.1, true).await
}

/// `POST /{service_id}/console/settings/mail-accounts/{id}/disable`
pub async fn disable_account(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, a, path.1, false).await
}

/// `POST /{service_id}/console/settings/mail-accounts/{id}/delete` — only a disabled account.
pub async fn delete_account(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let acc = load(&a, path.1).await?;
    let id = acc.id;
    let deleted = a
        .viewer()
        .state
        .db
        .write(move |c| Ok(MailAccount::delete_disabled(c, id)?))
        .await?;
    let lang = a.viewer().lang;
    if deleted {
        accounts_changed();
        a.viewer().flash(Flash::success(i18n::tf(
            lang,
            "imap.deleted",
            &[("name", &acc.display_name)],
        )));
        Ok(w::redirect(&req, &base(&a)))
    } else {
        a.viewer()
            .flash(Flash::error(i18n::t(lang, "imap.delete_enabled")));
        Ok(w::redirect(&req, &base(&a)))
    }
}

/// `POST /{service_id}/console/settings/mail-accounts/{id}/poll` — fetches new mail now.
pub async fn poll_now(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let acc = load(&a, path.1).await?;
    let lang = a.viewer().lang;
    let flash = match import::poll_account_if_free(&a.viewer().state, acc.id).await {
        Ok(r) => Flash::success(i18n::tf(
            lang,
            "imap.polled",
            &[
                ("imported", &r.imported.to_string()),
                ("quarantined", &r.quarantined.to_string()),
            ],
        )),
        Err(PollError::Disabled) => Flash::error(i18n::t(lang, "imap.poll_disabled")),
        Err(PollError::Busy) => Flash::error(i18n::t(lang, "imap.poll_busy")),
        Err(PollError::Imap(f)) => Flash::error(f.message(lang, &acc.target_without_password())),
        Err(PollError::Db(e)) => return Err(e),
    };
    a.viewer().flash(flash);
    Ok(w::redirect(&req, &base(&a)))
}

/// One quarantined message in the list.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    /// Key.
    pub id: i64,
    /// When.
    pub received: String,
    /// Account name.
    pub account: String,
    /// UID.
    pub uid: i64,
    /// Sender.
    pub from: String,
    /// Subject.
    pub subject: String,
    /// Reason code.
    pub reason: String,
    /// Reason label key.
    pub reason_key: String,
    /// Details.
    pub detail: String,
    /// Size, readable.
    pub size: String,
    /// Whether the raw message can be downloaded.
    pub has_raw: bool,
}

/// The quarantine page.
#[derive(Template)]
#[template(path = "mail/quarantine.html")]
pub struct QuarantinePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `…/mail-quarantine`
    pub base: String,
    /// `…/mail-accounts`
    pub accounts: String,
    /// Rows.
    pub rows: Vec<QuarantineRow>,
    /// Link to older entries.
    pub next: Option<String>,
}

fn quarantine_row(q: Quarantined) -> QuarantineRow {
    QuarantineRow {
        id: q.id,
        received: fmt_time(q.received_at),
        account: q.account_name,
        uid: q.uid,
        from: q.from_addr,
        subject: q.subject,
        reason_key: if quarantine::REASONS.contains(&q.reason.as_str()) {
            format!("imap.reason.{}", q.reason)
        } else {
            "imap.reason.other".into()
        },
        reason: q.reason,
        detail: q.detail,
        size: crate::help_center::attachments::size_label(q.raw_size),
        has_raw: q.stored_path.is_some(),
    }
}

/// `?before=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct BeforeQuery {
    #[serde(default)]
    before: String,
}

/// `GET /{service_id}/console/settings/mail-quarantine`
pub async fn quarantine_list(
    a: ServiceAdmin,
    query: web::Query<BeforeQuery>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let sid = a.service.id;
    let before = query.before.trim().parse::<i64>().ok();
    let mut list = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(quarantine::page(c, sid, before, QUARANTINE_PAGE + 1)?))
        .await?;
    let qbase = quarantine_base(&a);
    let next = if list.len() as i64 > QUARANTINE_PAGE {
        list.truncate(QUARANTINE_PAGE as usize);
        list.last().map(|q| format!("{qbase}?before={}", q.id))
    } else {
        None
    };
    let page = QuarantinePage {
        ctx: PageCtx::console(&a, "imap.quarantine_title"),
        base: qbase,
        accounts: base(&a),
        rows: list.into_iter().map(quarantine_row).collect(),
        next,
    };
    w::html(StatusCode::OK, &page)
}

/// `GET /{service_id}/console/settings/mail-quarantine/{id}/raw` — the original message.
pub async fn quarantine_raw(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let (sid, id) = (a.service.id, path.1);
    let q = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(quarantine::find(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let stored = q.stored_path.ok_or(AppError::NotFound)?;
    let full = a.viewer().state.config.data_dir.join(stored);
    let bytes = web::block(move || std::fs::read(full))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "message/rfc822"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"quarantine-{}.eml\"", q.id),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// `POST /{service_id}/console/settings/mail-quarantine/{id}/delete`
pub async fn quarantine_dismiss(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    consultation(&a)?;
    let (sid, id) = (a.service.id, path.1);
    let removed = a
        .viewer()
        .state
        .db
        .write(move |c| Ok(quarantine::dismiss(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(p) = removed {
        attachments::remove_files_later(&a.viewer().state, vec![p]).await;
    }
    a.viewer()
        .flash(Flash::success(a.viewer().t("imap.quarantine_dismissed")));
    Ok(w::redirect(&req, &quarantine_base(&a)))
}
