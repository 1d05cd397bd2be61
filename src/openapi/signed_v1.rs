//! The signed inquiry endpoints (API.md §7.4.3–§7.6): ticket attachment upload, ticket
//! creation with the exact validation-error list, a member's tickets, one member ticket, the
//! member's follow-up, and help-center addition data. Every call passes
//! [`verify_call`](super::signing::verify_call) first; each change is one transaction, so a
//! refused ticket leaves nothing behind.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::categories::model::Tree as CatTree;
use crate::customers::{self, Contact, MAX_USERCODE_CHARS};
use crate::db::refuse;
use crate::db::schema::{
    api_additions, api_ticket_meta, customers as cust, field_defs, tickets as tk,
};
use crate::db::types::CategoryTree;
use crate::db::types::{ServiceId, TicketId};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::fields::layout::{FieldFailure, FormDefinition, customer_form};
use crate::fields::model::{Control, SystemField};
use crate::fields::validate::{RawValue, StoredValue};
use crate::help_center::attachments::{
    EXTENSIONS, Incoming, StoredFile, content_matches, extension, store_files_in,
};
use crate::i18n::{self, Lang};
use crate::org::info::UPLOADS_DIR;
use crate::tenancy::service::Service;
use crate::tenancy::service::default_lang;
use crate::tickets::intake::{self, Intake, Receipt};
use crate::tickets::lifecycle::{self, LifecycleError};
use crate::tickets::{self, Channel, EntryKind, Status, Ticket, TicketAttachment};

use super::envelope::{
    ApiError, ApiResult, MAX_PAGE_SIZE, Params, display_dt, millis, ok_content, ok_page,
    parse_sort, pick_lang, tz_of,
};
use super::files::{self, ApiFile, FileKind};
use super::signing::{SignedCall, UploadedFile, verify_call};

/// Most attachments per ticket or follow-up.
pub const MAX_ATTACHMENTS: usize = 5;
/// Longest file name accepted (C-51: up to 100 characters).
pub const MAX_FILE_NAME: usize = 100;
/// Longest subject through the API (C-13).
pub const MAX_API_SUBJECT: i32 = 255;
/// Longest `typeOne` / `typeTwo`.
pub const MAX_TYPE_FIELD: usize = 200;
/// Longest follow-up text.
pub const MAX_COMMENT: usize = 20_000;
/// Longest addition content.
pub const MAX_ADDITION: usize = 64 * 1024;
/// How long an `additionId` can be used.
pub const ADDITION_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// The message language of a call: `language` when offered, else the service default.
fn call_lang(call: &SignedCall) -> Lang {
    pick_lang(&call.service, call.params.get("language"))
}

fn upload_lang(req: &HttpRequest) -> Lang {
    Params::parse(req.query_string(), None)
        .get("language")
        .and_then(Lang::parse)
        .unwrap_or(Lang::Ko)
}

/// The documented "too large" upload message, for bodies refused unread.
pub fn too_large_message(req: &HttpRequest) -> String {
    i18n::t(upload_lang(req), "openapi.upload.too_large")
}

/// No multipart body is expected.
pub fn not_multipart(_: &HttpRequest) -> String {
    "Request body is too large".into()
}

/// Checks an uploaded file against the limits of §7.4.3; the refusal is the exception shape.
pub fn check_upload(file: &UploadedFile, lang: Lang) -> Result<String, ApiError> {
    let refuse = |key: &str| Err(ApiError::Exception(i18n::t(lang, key)));
    if file.too_large() {
        return refuse("openapi.upload.too_large");
    }
    if file.name.chars().count() > MAX_FILE_NAME {
        return refuse("openapi.upload.name_too_long");
    }
    let Some(ext) = extension(&file.name).filter(|e| EXTENSIONS.contains(&e.as_str())) else {
        return refuse("openapi.upload.extension");
    };
    if file.bytes.is_empty() || !content_matches(&ext, &file.bytes) {
        return refuse("openapi.upload.extension");
    }
    Ok(ext)
}

/// Stores a checked upload and records it as pending; returns the row.
pub async fn store_upload(
    call: &SignedCall,
    file: UploadedFile,
    kind: FileKind,
) -> Result<ApiFile, ApiError> {
    let sid = call.service.id;
    let dir = call.state.config.data_dir.clone();
    let rel = format!("{UPLOADS_DIR}/api/{sid}");
    let size = file.size;
    let incoming = Incoming {
        name: file.name.clone(),
        bytes: file.bytes,
        too_large: false,
    };
    let stored: Vec<StoredFile> = web::block(move || store_files_in(&dir, &rel, vec![incoming]))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
        .map_err(|e| ApiError::Internal(format!("upload: {e}")))?;
    let Some(s) = stored.into_iter().next() else {
        return Err(ApiError::Internal("upload stored nothing".into()));
    };
    let path = s.path.clone();
    let result = call
        .state
        .db
        .write(move |c| {
            let row = files::insert_pending(
                c,
                sid,
                kind,
                &s.name,
                &s.path,
                &s.mime,
                i64::try_from(size).unwrap_or(i64::MAX),
            )?;
            let old = files::purge_pending(c, sid)?;
            Ok((row, old))
        })
        .await;
    match result {
        Ok((row, old)) => {
            crate::help_center::attachments::remove_files_later(&call.state, old).await;
            Ok(row)
        }
        Err(e) => {
            crate::help_center::attachments::remove_files_later(&call.state, vec![path]).await;
            Err(e.into())
        }
    }
}

/// `POST /{serviceId}/openapi/v1/ticket/attachments/upload.json` (P13), also the legacy
/// `/attachments/ticket/upload.json` (L21).
pub async fn upload_ticket_attachment(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, too_large_message).await?;
    let lang = upload_lang(&req);
    let Some(file) = call.file.clone() else {
        return Err(ApiError::BadRequest(
            "Multipart request but file is null".into(),
        ));
    };
    check_upload(&file, lang)?;
    let row = store_upload(&call, file, FileKind::Ticket).await?;
    ok_content(row.ticket_json())
}

/// One failed value in the §1.6 list.
fn failure(code: &str, field_id: Option<i64>, validate: &str) -> Value {
    let key = format!("validate.ticket.{code}.{validate}");
    json!({
        "objectName": code,
        "field": field_id.map(|i| i.to_string()).unwrap_or_default(),
        "validate": validate,
        "key": key,
        "message": key,
        "rejectValue": "",
    })
}

fn failure_of(f: &FieldFailure) -> Value {
    failure(&f.code, Some(f.field_id), f.error.api_validate())
}

/// A string member of a JSON object: `Ok(None)` when absent or null, `Err` when another type.
fn str_member(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ()> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(()),
    }
}

/// Attachment IDs from `[{attachmentId}]`, `["id"]` or `"id1,id2"`.
fn attachment_ids(v: Option<&Value>) -> Result<Vec<String>, ()> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.trim().to_string()),
                Value::Object(o) => match o.get("attachmentId") {
                    Some(Value::String(s)) => Ok(s.trim().to_string()),
                    _ => Err(()),
                },
                _ => Err(()),
            })
            .collect(),
        Some(_) => Err(()),
    }
}

/// Looks up pending (or, with `allow_linked`, any) ticket uploads by ID; `None` when one is
/// unknown.
fn resolve_uploads(
    conn: &mut DbConn,
    service_id: i64,
    ids: &[String],
) -> QueryResult<Option<Vec<ApiFile>>> {
    let mut out: Vec<ApiFile> = Vec::new();
    for id in ids {
        match files::find(conn, service_id, id)? {
            Some(f) if f.kind == FileKind::Ticket.as_str() && f.pending() => {
                if !out.iter().any(|o| o.public_id == f.public_id) {
                    out.push(f);
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn stored_files(uploads: &[ApiFile]) -> Vec<StoredFile> {
    uploads
        .iter()
        .map(|u| StoredFile {
            name: u.file_name.clone(),
            path: u.stored_path.clone(),
            mime: u.mime.clone(),
            size: u.size_bytes,
        })
        .collect()
}

fn channel_of(source: Option<&str>) -> Option<Channel> {
    match source.map(str::trim).unwrap_or("web") {
        "" | "web" => Some(Channel::Web),
        "spweb" => Some(Channel::MobileWeb),
        "api" => Some(Channel::Api),
        _ => None,
    }
}

/// The system intake-type field's ID (for a `category` failure without a form).
fn category_field_id(conn: &mut DbConn, service_id: i64) -> QueryResult<Option<i64>> {
    field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::code.eq(SystemField::IntakeType.as_str()))
        .filter(field_defs::is_system.eq(true))
        .select(field_defs::id)
        .first(conn)
        .optional()
}

/// A parsed ticket-create body (P14).
#[derive(Debug, Clone, Default)]
pub struct CreateInput {
    /// Intake type.
    pub category_id: Option<i64>,
    /// Whether `categoryId` was present but not a number.
    pub category_malformed: bool,
    /// Subject.
    pub subject: Option<String>,
    /// Content.
    pub content: Option<String>,
    /// Member user code.
    pub usercode: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Name.
    pub username: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Attachment IDs.
    pub attachments: Vec<String>,
    /// `typeOne`.
    pub type_one: String,
    /// `typeTwo`.
    pub type_two: String,
    /// Body language.
    pub language: Option<String>,
    /// Channel.
    pub source: Option<String>,
    /// Custom field values by code.
    pub user_fields: HashMap<String, Value>,
    /// Shape errors found while reading (`objectName`, `validate`).
    pub shape_errors: Vec<(String, &'static str)>,
}

impl CreateInput {
    /// Reads the JSON body; wrong types become `invalid` failures, not a 500.
    pub fn parse(body: &Value) -> Result<CreateInput, ApiError> {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::BadRequest(
                "Request body must be a JSON object".into(),
            ));
        };
        let mut input = CreateInput::default();
        let bad = |name: &str, input: &mut CreateInput| {
            input.shape_errors.push((name.to_string(), "invalid"));
        };
        match obj.get("categoryId") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => input.category_id = Some(i),
                None => input.category_malformed = true,
            },
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) => match s.trim().parse::<i64>() {
                Ok(i) => input.category_id = Some(i),
                Err(_) => input.category_malformed = true,
            },
            Some(_) => input.category_malformed = true,
        }
        match str_member(obj, "subject") {
            Ok(v) => input.subject = v,
            Err(()) => bad("subject", &mut input),
        }
        match str_member(obj, "content") {
            Ok(v) => input.content = v,
            Err(()) => bad("content", &mut input),
        }
        match obj.get("endUser") {
            None | Some(Value::Null) => {}
            Some(Value::Object(u)) => {
                for (key, code) in [
                    ("usercode", "usercode"),
                    ("email", "mail"),
                    ("username", "name"),
                    ("phone", "phone"),
                ] {
                    match str_member(u, key) {
                        Ok(v) => match key {
                            "usercode" => input.usercode = v.filter(|s| !s.trim().is_empty()),
                            "email" => input.email = v,
                            "username" => input.username = v,
                            _ => input.phone = v,
                        },
                        Err(()) => bad(code, &mut input),
                    }
                }
            }
            Some(_) => bad("endUser", &mut input),
        }
        match attachment_ids(obj.get("attachments")) {
            Ok(ids) => input.attachments = ids,
            Err(()) => bad("attachment", &mut input),
        }
        for (key, slot) in [("typeOne", 1), ("typeTwo", 2)] {
            match str_member(obj, key) {
                Ok(v) => {
                    let v = v.unwrap_or_default();
                    if v.chars().count() > MAX_TYPE_FIELD {
                        input.shape_errors.push((key.to_string(), "length"));
                    } else if slot == 1 {
                        input.type_one = v;
                    } else {
                        input.type_two = v;
                    }
                }
                Err(()) => bad(key, &mut input),
            }
        }
        match str_member(obj, "language") {
            Ok(v) => input.language = v,
            Err(()) => bad("language", &mut input),
        }
        match str_member(obj, "source") {
            Ok(v) => input.source = v,
            Err(()) => bad("source", &mut input),
        }
        match obj.get("userFields") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let code = item.get("code").and_then(Value::as_str);
                    match code {
                        Some(code) => {
                            input
                                .user_fields
                                .entry(code.to_ascii_lowercase())
                                .or_insert_with(|| {
                                    item.get("value").cloned().unwrap_or(Value::Null)
                                });
                        }
                        None => bad("userFields", &mut input),
                    }
                }
            }
            Some(_) => bad("userFields", &mut input),
        }
        if input
            .usercode
            .as_ref()
            .is_some_and(|u| u.chars().count() > MAX_USERCODE_CHARS)
        {
            input.shape_errors.push(("usercode".into(), "length"));
        }
        if channel_of(input.source.as_deref()).is_none() {
            input.shape_errors.push(("source".into(), "invalid"));
        }
        Ok(input)
    }

    /// The raw value the form field receives.
    fn raw_for(&self, f: &crate::fields::layout::FormField, category_id: i64) -> RawValue {
        let text = |v: &Option<String>| match v {
            None => RawValue::Missing,
            Some(s) => RawValue::Text(s.clone()),
        };
        match f.system {
            Some(SystemField::IntakeType) => RawValue::text(category_id.to_string()),
            Some(SystemField::Name) => text(&self.username),
            Some(SystemField::Email) => text(&self.email),
            Some(SystemField::Phone) => text(&self.phone),
            Some(SystemField::Subject) => text(&self.subject),
            Some(SystemField::Content) => text(&self.content),
            // Consent is asked on help-center forms only (API.md §5.2).
            Some(SystemField::Consent) => RawValue::text("true"),
            _ if f.control == Control::File => RawValue::Files(self.attachments.clone()),
            _ => self
                .user_fields
                .get(&f.code.to_ascii_lowercase())
                .map_or(RawValue::Missing, RawValue::from_json),
        }
    }
}

/// Validates a create body against the intake type's form (all failures at once). The subject
/// may be up to 255 characters whatever the field configuration says (C-13).
pub fn validate_create(
    def: &FormDefinition,
    input: &CreateInput,
) -> Result<Vec<(crate::fields::layout::FormField, StoredValue)>, Vec<Value>> {
    let mut def = def.clone();
    for f in &mut def.fields {
        if f.system == Some(SystemField::Subject) && f.def.max_length < MAX_API_SUBJECT {
            f.def.max_length = MAX_API_SUBJECT;
            f.max_length = MAX_API_SUBJECT;
        }
        if f.control == Control::File {
            // The number of attachments is checked against the uploads below.
            f.def.required = f.required;
        }
    }
    let category_id = def.category_id;
    let mut errors: Vec<Value> = Vec::new();
    let shape_failed: Vec<String> = input.shape_errors.iter().map(|(c, _)| c.clone()).collect();
    for (code, validate) in &input.shape_errors {
        let id = def
            .fields
            .iter()
            .find(|f| f.code.eq_ignore_ascii_case(code))
            .map(|f| f.id);
        errors.push(failure(code, id, validate));
    }
    match def.validate_all(|f| input.raw_for(f, category_id)) {
        Ok(values) if errors.is_empty() => Ok(values),
        Ok(_) => Err(errors),
        Err(failures) => {
            for f in failures
                .iter()
                .filter(|f| !shape_failed.iter().any(|c| c.eq_ignore_ascii_case(&f.code)))
            {
                errors.push(failure_of(f));
            }
            Err(errors)
        }
    }
}

fn attachment_field_id(def: &FormDefinition) -> Option<i64> {
    def.fields
        .iter()
        .find(|f| f.control == Control::File)
        .map(|f| f.id)
}

/// The repeat-inquiry check (codes 1001/1002): while the service's security feature is on,
/// an end user (by member code or e-mail, and by `OC-Client-IP`) may open at most the
/// configured number of tickets within the window.
pub fn check_repeat(
    conn: &mut DbConn,
    service: &Service,
    customer_id: Option<i64>,
    end_user_ip: Option<&str>,
    lang: Lang,
) -> Result<(), ApiError> {
    if !service.features().security {
        return Ok(());
    }
    let settings = super::settings::ApiSettings::load(conn, service.id)?;
    let since = now() - TimeDelta::minutes(i64::from(settings.repeat_window_minutes));
    let limit = i64::from(settings.repeat_limit);
    let mut over = false;
    if let Some(cid) = customer_id {
        let n: i64 = tk::table
            .filter(tk::service_id.eq(service.id))
            .filter(tk::customer_id.eq(cid))
            .filter(tk::created_at.ge(since))
            .count()
            .get_result(conn)?;
        over |= n >= limit;
    }
    if let Some(ip) = end_user_ip.filter(|s| !s.is_empty()) {
        let n: i64 = api_ticket_meta::table
            .filter(api_ticket_meta::service_id.eq(service.id))
            .filter(api_ticket_meta::client_ip.eq(ip))
            .filter(api_ticket_meta::created_at.ge(since))
            .count()
            .get_result(conn)?;
        over |= n >= limit;
    }
    if over {
        return Err(ApiError::Business(
            1002,
            i18n::t(lang, "openapi.repeat.exceeded"),
        ));
    }
    Ok(())
}

/// The customer a create body names, if it exists already (for the repeat check).
fn existing_customer(
    conn: &mut DbConn,
    service_id: i64,
    input: &CreateInput,
) -> QueryResult<Option<i64>> {
    if let Some(code) = &input.usercode {
        return Ok(customers::find_by_usercode(conn, service_id, code.trim())?.map(|c| c.id));
    }
    Ok(
        customers::Customer::find_by_email(conn, service_id, input.email.as_deref().unwrap_or(""))?
            .map(|c| c.id),
    )
}

/// What a validated create needs.
pub struct Prepared {
    /// The intake type's form.
    pub def: FormDefinition,
    /// Validated values (files and consent left out).
    pub values: Vec<(crate::fields::layout::FormField, StoredValue)>,
    /// The uploads to attach.
    pub uploads: Vec<ApiFile>,
    /// The customer's contact.
    pub contact: Contact,
    /// Subject.
    pub subject: String,
    /// Content.
    pub content: String,
}

/// Validates a create body fully (form values, category, attachments) inside `conn`.
pub fn prepare_create(
    conn: &mut DbConn,
    service: &Service,
    input: &CreateInput,
    lang: Lang,
) -> Result<Result<Prepared, Vec<Value>>, ApiError> {
    let def = match input.category_id {
        Some(id) if !input.category_malformed => {
            customer_form(conn, service, id, lang)?.filter(|d| d.active)
        }
        _ => None,
    };
    let Some(def) = def else {
        let cat_field = category_field_id(conn, service.id)?;
        let validate = if input.category_id.is_none() && !input.category_malformed {
            "required"
        } else {
            "invalid"
        };
        return Ok(Err(vec![failure("category", cat_field, validate)]));
    };
    let mut errors = Vec::new();
    let values = match validate_create(&def, input) {
        Ok(v) => v,
        Err(e) => {
            errors = e;
            Vec::new()
        }
    };
    let att_field = attachment_field_id(&def);
    let uploads = if input.attachments.len() > MAX_ATTACHMENTS {
        errors.push(failure("attachment", att_field, "invalid"));
        Vec::new()
    } else {
        match resolve_uploads(conn, service.id, &input.attachments)? {
            Some(u) => u,
            None => {
                if !errors.iter().any(|e| e["objectName"] == "attachment") {
                    errors.push(failure("attachment", att_field, "invalid"));
                }
                Vec::new()
            }
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let text_of = |s: SystemField| {
        values
            .iter()
            .find(|(f, _)| f.system == Some(s))
            .map(|(_, v)| match v {
                StoredValue::Text(t) => t.clone(),
                _ => String::new(),
            })
            .unwrap_or_default()
    };
    let contact = Contact {
        name: text_of(SystemField::Name),
        email: text_of(SystemField::Email),
        phone: text_of(SystemField::Phone),
    };
    let subject = text_of(SystemField::Subject);
    let content = text_of(SystemField::Content);
    let values = values
        .into_iter()
        .filter(|(f, _)| f.control != Control::File && f.system != Some(SystemField::Consent))
        .collect();
    Ok(Ok(Prepared {
        def,
        values,
        uploads,
        contact,
        subject,
        content,
    }))
}

/// Extra data the API stores beside a ticket.
pub struct TicketMeta<'a> {
    /// End-user IP.
    pub client_ip: &'a str,
    /// `typeOne`.
    pub type_one: &'a str,
    /// `typeTwo`.
    pub type_two: &'a str,
    /// Legacy `addition`.
    pub addition: &'a str,
}

/// Records the extra data of a ticket.
pub fn insert_meta(
    conn: &mut DbConn,
    service_id: i64,
    ticket_id: i64,
    m: &TicketMeta<'_>,
) -> QueryResult<()> {
    diesel::insert_into(api_ticket_meta::table)
        .values((
            api_ticket_meta::ticket_id.eq(ticket_id),
            api_ticket_meta::service_id.eq(service_id),
            api_ticket_meta::client_ip.eq(m.client_ip),
            api_ticket_meta::type_one.eq(m.type_one),
            api_ticket_meta::type_two.eq(m.type_two),
            api_ticket_meta::addition.eq(m.addition),
            api_ticket_meta::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Opens the ticket of a prepared create (inside the caller's transaction) through
/// [`intake::open`]: customer linked (by member code, else by contact), ticket, values,
/// attachments (linked to their upload IDs), the receipt mail to the customer, extra data.
/// Returns the ticket, its attachments and whether a receipt was queued.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one API create, each from a different source"
)]
pub fn open_ticket(
    conn: &mut DbConn,
    secret: &crate::crypto::SecretKey,
    service: &Service,
    p: &Prepared,
    usercode: Option<&str>,
    channel: Channel,
    lang: Lang,
    meta: &TicketMeta<'_>,
) -> Result<(Ticket, Vec<TicketAttachment>, bool), ApiError> {
    let files = stored_files(&p.uploads);
    let opened = intake::open(
        conn,
        secret,
        &Intake {
            contact: Some(&p.contact),
            member_code: usercode,
            category_id: Some(p.def.category_id),
            fields: &p.values,
            files: &files,
            receipt: Receipt::ToCustomer {
                service_name: &service.name,
            },
            ..Intake::new(service.id, channel, lang, &p.subject, &p.content)
        },
    )?;
    let atts = tickets::attachments_of(conn, opened.id)?;
    files::link_ticket_uploads(conn, &p.uploads, &atts)?;
    insert_meta(conn, service.id, opened.id, meta)?;
    let t = Ticket::find(conn, ServiceId(service.id), TicketId(opened.id))?
        .ok_or(ApiError::NotFound)?;
    Ok((t, atts, opened.receipt_queued))
}

/// `POST /{serviceId}/openapi/v1/ticket.json` (P14).
pub async fn create_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let body = call.json_body()?;
    let input = CreateInput::parse(&body)?;
    let lang = pick_lang(
        &call.service,
        input
            .language
            .as_deref()
            .or_else(|| call.params.get("language")),
    );
    let channel = channel_of(input.source.as_deref()).unwrap_or(Channel::Web);
    let service = call.service.clone();
    let secret = call.state.secret.clone();
    let ip = call.end_user_ip.clone().unwrap_or_default();
    let msg_lang = call_lang(&call);
    let outcome = call
        .state
        .db
        .write_or_refuse(move |c| {
            let prepared = match prepare_create(c, &service, &input, lang) {
                Ok(Ok(p)) => p,
                Ok(Err(list)) => return refuse(ApiError::Validation(list)),
                Err(e) => return refuse(e),
            };
            let existing = existing_customer(c, service.id, &input)?;
            let ip_opt = (!ip.is_empty()).then_some(ip.as_str());
            if let Err(e) = check_repeat(c, &service, existing, ip_opt, msg_lang) {
                return refuse(e);
            }
            let meta = TicketMeta {
                client_ip: &ip,
                type_one: &input.type_one,
                type_two: &input.type_two,
                addition: "",
            };
            match open_ticket(
                c,
                &secret,
                &service,
                &prepared,
                input.usercode.as_deref(),
                channel,
                lang,
                &meta,
            ) {
                Ok((t, atts, mailed)) => Ok((t, atts, prepared.uploads, mailed)),
                Err(ApiError::Internal(m)) => Err(AppError::Internal(m).into()),
                Err(e) => refuse(e),
            }
        })
        .await?;
    let (t, atts, uploads, _) = outcome?;
    let attachments: Vec<Value> = uploads
        .iter()
        .map(|u| {
            let at = atts
                .iter()
                .find(|a| a.stored_path == u.stored_path)
                .map_or(u.created_at, |a| a.created_at);
            files::ticket_json(&u.public_id, &u.file_name, &u.mime, u.size_bytes, at)
        })
        .collect();
    let content = input_content(&t, &call).await?;
    ok_content(json!({
        "ticketId": t.public_id,
        "subject": t.subject,
        "categoryId": t.category_id,
        "categoryName": null,
        "categoryFullName": null,
        "status": t.status,
        "statusName": null,
        "content": content,
        "createdDt": millis(t.created_at),
        "updatedDt": millis(t.updated_at),
        "contents": null,
        "attachments": attachments,
        "displayDt": null,
    }))
}

/// The first customer message of a ticket.
async fn input_content(t: &Ticket, call: &SignedCall) -> Result<String, ApiError> {
    let id = t.id;
    Ok(call
        .state
        .db
        .read(move |c| Ok(tickets::entries_of(c, id)?))
        .await?
        .into_iter()
        .find(|e| e.kind == EntryKind::CustomerMessage.as_str())
        .map(|e| e.body)
        .unwrap_or_default())
}

/// The customer label of a status (API.md §1.8).
pub fn status_name(status: &str, lang: Lang) -> String {
    let key = match Status::parse(status).unwrap_or(Status::Open) {
        Status::New => "openapi.status.new",
        Status::Open => "openapi.status.open",
        Status::Reply => "openapi.status.reply",
        Status::Solved => "openapi.status.solved",
        Status::Closed => "openapi.status.closed",
    };
    i18n::t(lang, key)
}

fn usercode_of(req: &HttpRequest) -> Result<String, ApiError> {
    let u = req.match_info().get("usercode").unwrap_or_default().trim();
    if u.is_empty() || u.chars().count() > MAX_USERCODE_CHARS {
        return Err(ApiError::NotFound);
    }
    Ok(u.to_string())
}

/// Category names for ticket summaries.
pub struct CategoryNames {
    tree: CatTree,
    lang: Lang,
    fallback: Lang,
}

impl CategoryNames {
    /// Loads the intake tree once.
    pub fn load(conn: &mut DbConn, service: &Service, lang: Lang) -> QueryResult<CategoryNames> {
        Ok(CategoryNames {
            tree: CatTree::load(conn, service.id, CategoryTree::Intake)?,
            lang,
            fallback: default_lang(service),
        })
    }

    /// The leaf name.
    pub fn leaf(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.tree.get(id))
            .map(|n| n.display_name(self.lang, self.fallback).to_string())
    }

    /// Names from the top down, joined with `>`.
    pub fn full(&self, id: Option<i64>) -> Option<String> {
        let id = id?;
        self.tree.get(id)?;
        Some(self.tree.path_names(id, self.lang, self.fallback).join(">"))
    }

    /// The intake type with its descendants.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        self.tree.subtree(id).iter().map(|n| n.id).collect()
    }
}

fn summary_json(t: &Ticket, names: &CategoryNames, lang: Lang, tz: chrono_tz::Tz) -> Value {
    json!({
        "ticketId": t.public_id,
        "subject": t.subject,
        "categoryId": t.category_id,
        "categoryName": names.leaf(t.category_id),
        "categoryFullName": names.full(t.category_id),
        "status": t.status,
        "statusName": status_name(t.status.as_str(), lang),
        "content": null,
        "createdDt": millis(t.created_at),
        "updatedDt": millis(t.updated_at),
        "contents": null,
        "attachments": null,
        "displayDt": display_dt(tz, t.created_at),
    })
}

/// `GET|POST /{serviceId}/openapi/v1/ticket/enduser/{usercode}/list.json` (P15).
pub async fn member_tickets(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let usercode = usercode_of(&req)?;
    let p = &call.params;
    let paging = p.paging(10, MAX_PAGE_SIZE)?;
    let category = p.int("categoryId")?;
    let statuses = p.list("status");
    if statuses.iter().any(|s| Status::parse(s).is_none()) {
        return Err(ApiError::invalid("status"));
    }
    let mut sources = p.list("source");
    if sources.is_empty() {
        sources = vec!["web".into(), "spweb".into(), "api".into()];
    }
    let mut channels = Vec::new();
    for s in &sources {
        let ch = channel_of(Some(s)).ok_or_else(|| ApiError::invalid("source"))?;
        channels.push(ch.as_str().to_string());
    }
    let sort = parse_sort(p.get("sort"), &["createdDt", "updatedDt"], "updatedDt:desc");
    let lang = call_lang(&call);
    let tz = tz_of(&call.service);
    let service = call.service.clone();
    let (rows, total, names) = call
        .state
        .db
        .read(move |c| {
            let names = CategoryNames::load(c, &service, lang)?;
            let cats = category.map(|id| names.subtree(id));
            let customer_ids: Vec<i64> = cust::table
                .filter(cust::service_id.eq(service.id))
                .filter(cust::usercode.eq(&usercode))
                .select(cust::id)
                .load(c)?;
            let base = || {
                let mut q = tk::table
                    .filter(tk::service_id.eq(service.id))
                    .filter(tk::customer_id.eq_any(customer_ids.clone()))
                    .filter(tk::channel.eq_any(channels.clone()))
                    .into_boxed();
                if !statuses.is_empty() {
                    q = q.filter(tk::status.eq_any(statuses.clone()));
                }
                if let Some(cats) = &cats {
                    q = q.filter(tk::category_id.eq_any(cats.clone()));
                }
                q
            };
            let total: i64 = base().count().get_result(c)?;
            let mut q = base();
            for k in &sort {
                q = match (k.field.as_str(), k.desc) {
                    ("createdDt", true) => q.then_order_by(tk::created_at.desc()),
                    ("createdDt", false) => q.then_order_by(tk::created_at.asc()),
                    ("updatedDt", true) => q.then_order_by(tk::updated_at.desc()),
                    _ => q.then_order_by(tk::updated_at.asc()),
                };
            }
            let rows: Vec<Ticket> = q
                .then_order_by(tk::id.desc())
                .offset(paging.offset())
                .limit(paging.size)
                .select(Ticket::as_select())
                .load(c)?;
            Ok((rows, total, names))
        })
        .await?;
    let items = rows
        .iter()
        .map(|t| summary_json(t, &names, lang, tz))
        .collect();
    ok_page(items, total, paging)
}

/// The ticket `ticket_id` if the member `usercode` owns it.
fn owned_ticket(
    conn: &mut DbConn,
    service_id: i64,
    usercode: &str,
    public_id: &str,
) -> Result<Ticket, ApiError> {
    let t = Ticket::find_by_public_id(conn, service_id, public_id)?.ok_or(ApiError::NotFound)?;
    let owner: Option<Option<String>> = match t.customer_id {
        Some(cid) => cust::table
            .find(cid)
            .select(cust::usercode)
            .first(conn)
            .optional()?,
        None => None,
    };
    if owner.flatten().as_deref() != Some(usercode) {
        return Err(ApiError::NotFound);
    }
    Ok(t)
}

fn entry_type(kind: &str) -> Option<&'static str> {
    match EntryKind::parse(kind)? {
        EntryKind::AgentReply | EntryKind::HoldReply => Some("reply"),
        EntryKind::CustomerFollowup => Some("enduser"),
        _ => None,
    }
}

fn type_name(t: &str, lang: Lang) -> String {
    i18n::t(
        lang,
        if t == "reply" {
            "openapi.entry.reply"
        } else {
            "openapi.entry.enduser"
        },
    )
}

/// `GET /{serviceId}/openapi/v1/ticket/enduser/{usercode}/{ticketId}/detail.json` (P16).
pub async fn member_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let usercode = usercode_of(&req)?;
    let public_id = req
        .match_info()
        .get("ticket_id")
        .unwrap_or_default()
        .to_string();
    let lang = call_lang(&call);
    let tz = tz_of(&call.service);
    let service = call.service.clone();
    let (t, entries, atts, ids, names) = call
        .state
        .db
        .write(move |c| {
            let t = match owned_ticket(c, service.id, &usercode, &public_id) {
                Ok(t) => t,
                Err(ApiError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(AppError::Internal(e.to_string())),
            };
            let entries = tickets::entries_of(c, t.id)?;
            let atts = tickets::attachments_of(c, t.id)?;
            let ids = files::ticket_ids(c, service.id, &atts)?;
            let names = CategoryNames::load(c, &service, lang)?;
            Ok((t, entries, atts, ids, names))
        })
        .await?;
    let atts_of = |entry_id: i64| -> Value {
        let list: Vec<Value> = atts
            .iter()
            .filter(|a| a.entry_id == Some(entry_id))
            .filter_map(|a| {
                ids.get(&a.id).map(|id| {
                    files::ticket_json(id, &a.file_name, &a.mime, a.size_bytes, a.created_at)
                })
            })
            .collect();
        if list.is_empty() {
            Value::Null
        } else {
            Value::Array(list)
        }
    };
    let first = entries
        .iter()
        .find(|e| e.kind == EntryKind::CustomerMessage.as_str());
    let mut conversation: Vec<Value> = entries
        .iter()
        .filter_map(|e| {
            let ty = entry_type(&e.kind)?;
            Some(json!({
                "content": e.body,
                "type": ty,
                "typeName": type_name(ty, lang),
                "createdDt": millis(e.created_at),
                "displayDt": display_dt(tz, e.created_at),
                "attachments": atts_of(e.id),
            }))
        })
        .collect();
    conversation.reverse();
    let mut item = summary_json(&t, &names, lang, tz);
    item["content"] = json!(first.map(|e| e.body.clone()).unwrap_or_default());
    item["attachments"] = first.map_or(Value::Null, |e| atts_of(e.id));
    item["contents"] = if conversation.is_empty() {
        Value::Null
    } else {
        Value::Array(conversation)
    };
    ok_content(item)
}

/// Reads a follow-up's `comment` (JSON body, form field or query) and attachment IDs (query
/// comma list, or JSON body comma string or array) (C-16).
pub fn followup_input(call: &SignedCall) -> Result<(String, Vec<String>), ApiError> {
    let mut comment = call.params.get("comment").map(str::to_string);
    let mut ids: Vec<String> = call.params.list("attachments");
    if call.json {
        let body = call.json_body()?;
        if let Some(obj) = body.as_object() {
            match obj.get("comment") {
                Some(Value::String(s)) => comment = Some(s.clone()),
                None | Some(Value::Null) => {}
                Some(_) => return Err(ApiError::invalid("comment")),
            }
            if obj.contains_key("attachments") {
                let more = attachment_ids(obj.get("attachments"))
                    .map_err(|()| ApiError::invalid("attachments"))?;
                for id in more {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
    } else if !call.body.is_empty() && comment.is_none() {
        comment = Some(String::from_utf8_lossy(&call.body).into_owned());
    }
    let comment = comment.unwrap_or_default().trim().to_string();
    if comment.is_empty() {
        return Err(ApiError::required("comment"));
    }
    if comment.chars().count() > MAX_COMMENT {
        return Err(ApiError::BadRequest(format!(
            "comment is longer than {MAX_COMMENT} characters"
        )));
    }
    if ids.len() > MAX_ATTACHMENTS {
        return Err(ApiError::BadRequest(format!(
            "At most {MAX_ATTACHMENTS} attachments"
        )));
    }
    Ok((comment, ids))
}

/// Adds a customer follow-up with uploads (inside the caller's transaction); returns the
/// entry's time and the attachment objects.
pub fn add_followup(
    conn: &mut DbConn,
    service_id: i64,
    t: &Ticket,
    comment: &str,
    ids: &[String],
    lang: Lang,
) -> Result<(chrono::NaiveDateTime, Vec<Value>), ApiError> {
    let uploads = resolve_uploads(conn, service_id, ids)?
        .ok_or_else(|| ApiError::BadRequest("attachments are invalid".into()))?;
    let files_in = stored_files(&uploads);
    let entry_id = match lifecycle::customer_followup(conn, t, comment, &files_in, None) {
        Ok(id) => id,
        Err(LifecycleError::Closed) => {
            return Err(ApiError::BadRequest(i18n::t(
                lang,
                "openapi.followup.closed",
            )));
        }
        Err(LifecycleError::Db) => return Err(ApiError::Internal("follow-up failed".into())),
        Err(e) => return Err(ApiError::BadRequest(i18n::t(lang, e.message_key()))),
    };
    let atts = tickets::attachments_of(conn, t.id)?;
    files::link_ticket_uploads(conn, &uploads, &atts)?;
    let created: chrono::NaiveDateTime = crate::db::schema::ticket_entries::table
        .find(entry_id)
        .select(crate::db::schema::ticket_entries::created_at)
        .first(conn)?;
    let list = uploads
        .iter()
        .map(|u| {
            let at = atts
                .iter()
                .find(|a| a.stored_path == u.stored_path)
                .map_or(u.created_at, |a| a.created_at);
            files::ticket_json(&u.public_id, &u.file_name, &u.mime, u.size_bytes, at)
        })
        .collect();
    Ok((created, list))
}

/// `POST /{serviceId}/openapi/v1/ticket/enduser/{usercode}/{ticketId}/comment.json` (P18):
/// a solved or on-hold ticket reopens; a completed one refuses.
pub async fn member_followup(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let usercode = usercode_of(&req)?;
    let public_id = req
        .match_info()
        .get("ticket_id")
        .unwrap_or_default()
        .to_string();
    let (comment, ids) = followup_input(&call)?;
    let lang = call_lang(&call);
    let sid = call.service.id;
    let stored = comment.clone();
    let outcome = call
        .state
        .db
        .write_or_refuse(move |c| {
            let t = match owned_ticket(c, sid, &usercode, &public_id) {
                Ok(t) => t,
                Err(e) => return refuse(e),
            };
            match add_followup(c, sid, &t, &stored, &ids, lang) {
                Ok(v) => Ok(v),
                Err(ApiError::Internal(m)) => Err(AppError::Internal(m).into()),
                Err(e) => refuse(e),
            }
        })
        .await?;
    let (created, attachments) = outcome?;
    ok_content(json!({
        "content": comment,
        "type": "enduser",
        "typeName": null,
        "createdDt": millis(created),
        "displayDt": null,
        "attachments": attachments,
    }))
}

/// `POST /{serviceId}/hc/openapi/v1/addition.json` (P19): stores extra customer data and
/// returns its single-use `additionId` (valid 24 hours) as a bare string.
pub async fn addition(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let mut content: Option<String> = call.params.get("content").map(str::to_string);
    let mut visible = call.params.int("visible")?.unwrap_or(0);
    let parsed = if call.json {
        serde_json::from_slice::<Value>(&call.body).ok()
    } else {
        None
    };
    match parsed.as_ref().and_then(Value::as_object) {
        Some(obj) if obj.contains_key("content") => {
            content = match obj.get("content") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            if let Some(v) = obj.get("visible") {
                visible = match v {
                    Value::Number(n) => n.as_i64().ok_or_else(|| ApiError::invalid("visible"))?,
                    Value::String(s) => {
                        s.trim().parse().map_err(|_| ApiError::invalid("visible"))?
                    }
                    Value::Bool(b) => i64::from(*b),
                    _ => return Err(ApiError::invalid("visible")),
                };
            }
        }
        _ => {
            if !call.body.iter().all(u8::is_ascii_whitespace) {
                content = Some(String::from_utf8_lossy(&call.body).into_owned());
            }
        }
    }
    let content = content.unwrap_or_default();
    if content.trim().is_empty() {
        return Err(ApiError::required("content"));
    }
    if content.len() > MAX_ADDITION {
        return Err(ApiError::BadRequest("content is too long".into()));
    }
    if visible != 0 && visible != 1 {
        return Err(ApiError::invalid("visible"));
    }
    let sid = call.service.id;
    let id = crate::crypto::random_hex(16);
    let row_id = id.clone();
    call.state
        .db
        .write(move |c| {
            let t = now();
            diesel::delete(api_additions::table.filter(api_additions::expires_at.lt(t)))
                .execute(c)?;
            diesel::insert_into(api_additions::table)
                .values((
                    api_additions::id.eq(&row_id),
                    api_additions::service_id.eq(sid),
                    api_additions::content.eq(&content),
                    api_additions::visible.eq(visible == 1),
                    api_additions::created_at.eq(t),
                    api_additions::expires_at.eq(t + ADDITION_LIFETIME),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    ok_content(Value::from(id))
}
