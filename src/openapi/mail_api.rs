//! The e-mail settings of a service over the Open API (API.md §7.10, P28–P36): the
//! representative account, the mail settings (sender name and address, the layout, the external
//! accounts) and the external IMAP accounts (verify, register, update, enable, disable,
//! delete).
//!
//! Everything maps onto the mail module, the same domain functions the settings pages use:
//! [`crate::channels::email::representative`] for the representative account,
//! [`crate::notify::layouts::SenderInfo`] and [`crate::notify::layouts::save_everywhere`] for the
//! sender and the one per-service layout, [`crate::channels::email::accounts::check`] and
//! [`crate::channels::email::accounts::save_verified`] for the accounts (validated, verified over IMAP
//! and saved in one transaction; a failed verification names the failing step exactly as the
//! page does). Passwords are never returned: every account shows `"********"`.

use actix_web::{HttpRequest, web};
use serde_json::{Map, Value, json};

use crate::channels::email::accounts::{self, MailAccount, Problem, RawAccount, Refusal};
use crate::channels::email::representative::{self, Refusal as RepRefusal};
use crate::db::DbConn;
use crate::db::types::ServiceKind;
use crate::i18n::{self, Lang};
use crate::notify::SmtpSettings;
use crate::notify::layouts::{
    self, HtmlProblem, MAX_PART, MAX_SENDER_NAME, SenderInfo, SenderProblem,
};
use crate::tenancy::service::Service;

use super::admin_api::{read_api, write_api};
use super::envelope::{ApiError, ApiResult, millis, ok_content, ok_null, pick_lang};
use super::signed_v1::not_multipart;
use super::signing::{SignedCall, verify_call};

/// What every response shows instead of a password.
pub const MASKED_PASSWORD: &str = "********";
/// The bare success value of verify and delete.
const SUCCESS: &str = "SUCCESS";

/// The message language of a call: `language` when the service offers it, else its default.
fn call_lang(call: &SignedCall) -> Lang {
    pick_lang(&call.service, call.params.get("language"))
}

/// Mailboxes exist for consultation services only (as the settings pages).
fn consultation(call: &SignedCall) -> Result<(), ApiError> {
    if call.service.kind() == ServiceKind::Consultation {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

fn invalid(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is invalid"))
}

fn required(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is required"))
}

/// The request body as a JSON object (an empty body is `{}`).
fn body_object(call: &SignedCall) -> Result<Map<String, Value>, ApiError> {
    match call.json_body()? {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::BadRequest(
            "Request body must be a JSON object".into(),
        )),
    }
}

/// A string member as sent (not trimmed: passwords keep their spaces); another type is a `400`.
fn text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(key)),
    }
}

/// An integer member (a numeric string is accepted, API.md C-11); another value is a `400`.
fn integer(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(key)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(key)),
        Some(_) => Err(invalid(key)),
    }
}

/// A boolean member (`true`/`false`, also as strings, API.md C-14).
fn boolean(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => super::envelope::parse_bool(s)
            .map(Some)
            .ok_or_else(|| invalid(key)),
        Some(_) => Err(invalid(key)),
    }
}

/// The external-account object (API.md §7.10), password masked.
pub fn account_json(a: &MailAccount) -> Value {
    json!({
        "id": a.id,
        "name": a.display_name,
        "active": a.enabled,
        "host": a.host,
        "port": a.port,
        "ssl": a.use_ssl,
        "mail": a.address,
        "password": MASKED_PASSWORD,
        "mailDel": a.delete_after_import,
        "createdDt": millis(a.created_at),
        "updatedDt": millis(a.updated_at),
    })
}

/// The mail-settings object (API.md §7.10): the sender in use (the service's, else the SMTP
/// relay's), the external accounts keyed by ID, the representative address (`null` until it
/// is created), the layout and the last change.
fn settings_json(conn: &mut DbConn, service: &Service) -> Result<Value, ApiError> {
    let sender = SenderInfo::load(conn, service.id)?;
    let relay = SmtpSettings::load(conn)?;
    let pick = |own: &str, relay: Option<&str>| {
        if own.is_empty() {
            relay.unwrap_or_default().to_string()
        } else {
            own.to_string()
        }
    };
    let display_mail = pick(
        &sender.address,
        relay.as_ref().map(|r| r.from_address.as_str()),
    );
    let name = pick(&sender.name, relay.as_ref().map(|r| r.from_name.as_str()));
    let accounts = MailAccount::of_service(conn, service.id)?;
    let rep = representative::find(conn, service.id)?;
    let template = layouts::main_html(conn, service)?;
    let updated = [
        layouts::last_saved(conn, service.id)?,
        rep.as_ref().map(|r| r.created_at),
        accounts.iter().map(|a| a.updated_at).max(),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(service.created_at);
    let external: Map<String, Value> = accounts
        .iter()
        .map(|a| (a.id.to_string(), account_json(a)))
        .collect();
    Ok(json!({
        "displayMail": display_mail,
        "external": external,
        "mail": rep.map(|r| r.address),
        "name": name,
        "template": template,
        "updatedDt": millis(updated),
    }))
}

/// `POST /{serviceId}/openapi/v1/mail/create.json?mail={local part}` (P28): creates the
/// representative account once (`9007` afterwards, and for an address another service has).
pub async fn create_representative(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let from_body = if call.json && !call.body.is_empty() {
        text(&body_object(&call)?, "mail")?
    } else {
        None
    };
    let local = call
        .params
        .get("mail")
        .map(str::to_string)
        .or(from_body)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required("mail"))?;
    if local.chars().count() > representative::MAX_LOCAL {
        return Err(invalid("mail"));
    }
    let service = call.service.clone();
    let base_url = call.state.config.base_url.clone();
    let content = write_api(&call, move |c| {
        let domain = representative::platform_domain(c, &base_url)?;
        match representative::create(c, service.id, &local, &domain)? {
            Ok(_) => settings_json(c, &service),
            Err(RepRefusal::Invalid) => Err(invalid("mail")),
            Err(RepRefusal::Exists) => Err(ApiError::duplicate("representative account")),
            Err(RepRefusal::Taken) => Err(ApiError::duplicate("mail")),
        }
    })
    .await?;
    ok_content(content)
}

/// `GET /{serviceId}/openapi/v1/mail.json` (P29).
pub async fn get_settings(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let service = call.service.clone();
    let content = read_api(&call, move |c| settings_json(c, &service)).await?;
    ok_content(content)
}

/// `POST /{serviceId}/openapi/v1/mail.json` (P30): saves the members given — `name` (0–45
/// characters) and `displayMail` (an address, or empty for the relay's) as the sender info,
/// `template` (must contain `#{content}`) as the layout of every kind and language — in one
/// transaction. Absent members keep their values.
pub async fn save_settings(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let body = body_object(&call)?;
    let name = text(&body, "name")?;
    let display_mail = text(&body, "displayMail")?;
    let template = match text(&body, "template")? {
        None => None,
        Some(raw) => match layouts::check_html_part(&raw) {
            (html, None) => Some(html),
            (_, Some(HtmlProblem::ContentMissing)) => {
                return Err(ApiError::Exception(
                    "template must contain #{content}".into(),
                ));
            }
            (_, Some(HtmlProblem::TooLong)) => {
                return Err(ApiError::Exception(format!(
                    "template is too long (at most {MAX_PART} characters)"
                )));
            }
            (_, Some(HtmlProblem::Empty)) => return Err(required("template")),
        },
    };
    let service = call.service.clone();
    write_api(&call, move |c| {
        if name.is_some() || display_mail.is_some() {
            let stored = SenderInfo::load(c, service.id)?;
            let sender = SenderInfo::new(
                name.as_deref().unwrap_or(&stored.name),
                display_mail.as_deref().unwrap_or(&stored.address),
            );
            if let Some(p) = sender.problems().first() {
                return Err(match p {
                    SenderProblem::NameTooLong => ApiError::Exception(format!(
                        "name is too long (at most {MAX_SENDER_NAME} characters)"
                    )),
                    SenderProblem::NameChars => invalid("name"),
                    SenderProblem::Address => invalid("displayMail"),
                });
            }
            sender.save(c, service.id)?;
        }
        if let Some(html) = &template {
            layouts::save_everywhere(c, &service, html)?;
        }
        Ok(())
    })
    .await?;
    ok_null()
}

/// The body of verify, register and update, read strictly by type.
struct ExternalBody {
    id: Option<i64>,
    name: Option<String>,
    host: Option<String>,
    port: Option<i64>,
    ssl: Option<bool>,
    mail: Option<String>,
    password: Option<String>,
    mail_del: Option<bool>,
    active: Option<bool>,
}

impl ExternalBody {
    fn parse(call: &SignedCall) -> Result<ExternalBody, ApiError> {
        let o = body_object(call)?;
        Ok(ExternalBody {
            id: integer(&o, "id")?,
            name: text(&o, "name")?,
            host: text(&o, "host")?,
            port: integer(&o, "port")?,
            ssl: boolean(&o, "ssl")?,
            mail: text(&o, "mail")?,
            password: text(&o, "password")?,
            mail_del: boolean(&o, "mailDel")?,
            active: boolean(&o, "active")?,
        })
    }

    /// The checked input. Without `stored`, every field is required; with it (an existing
    /// account), a missing field keeps the stored value and a missing or masked password keeps
    /// the stored password.
    fn input(
        &self,
        stored: Option<&MailAccount>,
        lang: Lang,
    ) -> Result<accounts::AccountInput, ApiError> {
        fn need<T: Clone>(v: &Option<T>, keep: Option<T>, name: &str) -> Result<T, ApiError> {
            v.clone().or(keep).ok_or_else(|| required(name))
        }
        let name = need(&self.name, stored.map(|a| a.display_name.clone()), "name")?;
        let host = need(&self.host, stored.map(|a| a.host.clone()), "host")?;
        let port = need(&self.port, stored.map(|a| i64::from(a.port)), "port")?;
        let ssl = need(&self.ssl, stored.map(|a| a.use_ssl), "ssl")?;
        let mail = need(&self.mail, stored.map(|a| a.address.clone()), "mail")?;
        let mail_del = need(
            &self.mail_del,
            stored.map(|a| a.delete_after_import),
            "mailDel",
        )?;
        let password = match (&self.password, stored) {
            (Some(p), Some(_)) if p.is_empty() || p == MASKED_PASSWORD => String::new(),
            (Some(p), _) => p.clone(),
            (None, Some(_)) => String::new(),
            (None, None) => return Err(required("password")),
        };
        let raw = RawAccount {
            display_name: &name,
            host: &host,
            port: Some(port),
            use_ssl: ssl,
            address: &mail,
            password: &password,
            delete_after_import: mail_del,
        };
        accounts::check(&raw, stored.is_some()).map_err(|problems| {
            let p = problems.first().copied().unwrap_or(Problem::PortRange);
            let field = match p {
                Problem::NameLength => "name",
                Problem::HostRequired | Problem::HostFormat => "host",
                Problem::PortRange => "port",
                Problem::AddressFormat => "mail",
                Problem::PasswordLength | Problem::PasswordRequired => "password",
            };
            ApiError::Exception(format!("{field} is invalid: {}", p.message(lang)))
        })
    }
}

/// A refused save or verification as the API reports it: the connection step's explanation
/// (`400`), the service's limit (`400`) or the mailbox it already has (`9007`).
fn refusal(r: &Refusal, lang: Lang) -> ApiError {
    match r {
        Refusal::AddressTaken => ApiError::duplicate("mail"),
        Refusal::TooMany | Refusal::Connection(..) => ApiError::Exception(r.message(lang)),
    }
}

/// The account `{id}` of the path, or `404`.
async fn path_account(call: &SignedCall, req: &HttpRequest) -> Result<MailAccount, ApiError> {
    let id: i64 = req
        .match_info()
        .get("id")
        .and_then(|s| s.parse().ok())
        .ok_or(ApiError::NotFound)?;
    load_account(call, id).await
}

async fn load_account(call: &SignedCall, id: i64) -> Result<MailAccount, ApiError> {
    let sid = call.service.id;
    read_api(call, move |c| {
        MailAccount::find(c, sid, id)?.ok_or(ApiError::NotFound)
    })
    .await
}

/// `POST /{serviceId}/openapi/v1/mail/external/verify.json` (P31): signs in to the mailbox
/// (with the stored password when `id` names an account and none is given) and saves nothing.
/// `result.content` is `"SUCCESS"`; a failure is a `400` naming the failing step.
pub async fn verify_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let lang = call_lang(&call);
    let body = ExternalBody::parse(&call)?;
    let stored = match body.id {
        Some(id) => Some(load_account(&call, id).await?),
        None => None,
    };
    let input = body.input(stored.as_ref(), lang)?;
    accounts::verify_input(&call.state.secret, &input, stored.as_ref())
        .await
        .map_err(|r| refusal(&r, lang))?;
    ok_content(Value::from(SUCCESS))
}

async fn account_response(call: &SignedCall, id: i64) -> ApiResult {
    ok_content(account_json(&load_account(call, id).await?))
}

/// `POST /{serviceId}/openapi/v1/mail/external.json` (P32): verifies, then registers an
/// enabled account (`id` and `active` in the body are ignored).
pub async fn register_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let lang = call_lang(&call);
    let input = ExternalBody::parse(&call)?.input(None, lang)?;
    let id = accounts::save_verified(&call.state, call.service.id, input, None, None)
        .await?
        .map_err(|r| refusal(&r, lang))?;
    account_response(&call, id).await
}

/// `PUT /{serviceId}/openapi/v1/mail/external/{id}.json` (P33): verifies, then saves the
/// account; `active` optionally enables or disables it.
pub async fn update_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let lang = call_lang(&call);
    let acc = path_account(&call, &req).await?;
    let body = ExternalBody::parse(&call)?;
    let input = body.input(Some(&acc), lang)?;
    let id = accounts::save_verified(&call.state, call.service.id, input, Some(acc), body.active)
        .await?
        .map_err(|r| refusal(&r, lang))?;
    account_response(&call, id).await
}

async fn set_active(req: HttpRequest, payload: web::Payload, on: bool) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let acc = path_account(&call, &req).await?;
    let id = acc.id;
    write_api(&call, move |c| Ok(MailAccount::set_enabled(c, id, on)?)).await?;
    crate::channels::email::poller::accounts_changed();
    account_response(&call, id).await
}

/// `PUT /{serviceId}/openapi/v1/mail/external/{id}/enable.json` (P34).
pub async fn enable_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    set_active(req, payload, true).await
}

/// `PUT /{serviceId}/openapi/v1/mail/external/{id}/disable.json` (P35).
pub async fn disable_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    set_active(req, payload, false).await
}

/// `DELETE /{serviceId}/openapi/v1/mail/external/{id}.json` (P36): only a disabled account;
/// an enabled one is a `400`.
pub async fn delete_external(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    consultation(&call)?;
    let lang = call_lang(&call);
    let acc = path_account(&call, &req).await?;
    let id = acc.id;
    let deleted = write_api(&call, move |c| Ok(MailAccount::delete_disabled(c, id)?)).await?;
    if !deleted {
        return Err(ApiError::Exception(i18n::t(lang, "imap.delete_enabled")));
    }
    crate::channels::email::poller::accounts_changed();
    ok_content(Value::from(SUCCESS))
}
