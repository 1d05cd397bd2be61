//! Files as the Open API addresses them (API.md §1.9, §1.10): a 32-hex `attachmentId` per
//! ticket, FAQ or notice attachment. Uploads through the API get their ID at upload time and
//! keep it once a ticket references them (so `<img src=…/attachments/{id}>` in the content
//! stays valid); attachments added elsewhere (help-center form, console) get one the first time
//! the API shows them. Unreferenced uploads are purged after 24 hours. Downloads send the stored
//! content type with `inline` or `attachment` disposition and the name in `filename` and
//! `filename*`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::AppState;
use crate::db::schema::api_files;
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::help_center::attachments::Attachment;
use crate::tickets::TicketAttachment;

use super::envelope::{ApiError, millis};

/// How long an upload waits for a ticket (or document) to reference it.
pub const PENDING_LIFETIME: TimeDelta = TimeDelta::hours(24);

text_enum! {
    /// What a file belongs to.
    FileKind {
        /// A ticket attachment (or an upload waiting for a ticket).
        Ticket => "ticket",
        /// An FAQ attachment.
        Help => "help",
        /// A notice attachment.
        Notice => "notice",
    }
}

/// An `api_files` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_files)]
pub struct ApiFile {
    /// The 32-hex attachment ID.
    pub public_id: String,
    /// Service.
    pub service_id: i64,
    /// `ticket`, `help` or `notice`.
    pub kind: String,
    /// Original name.
    pub file_name: String,
    /// Path under the data directory.
    pub stored_path: String,
    /// Content type.
    pub mime: String,
    /// Size.
    pub size_bytes: i64,
    /// Uploaded.
    pub created_at: NaiveDateTime,
    /// The ticket attachment it became.
    pub ticket_attachment_id: Option<i64>,
    /// The FAQ or notice attachment it became.
    pub hc_attachment_id: Option<i64>,
}

impl ApiFile {
    /// Whether nothing references it yet.
    pub fn pending(&self) -> bool {
        self.ticket_attachment_id.is_none() && self.hc_attachment_id.is_none()
    }

    /// The ticket attachment object (§1.10).
    pub fn ticket_json(&self) -> Value {
        ticket_json(
            &self.public_id,
            &self.file_name,
            &self.mime,
            self.size_bytes,
            self.created_at,
        )
    }

    /// The notice/FAQ attachment object (§1.10).
    pub fn doc_json(&self) -> Value {
        json!({
            "attachmentId": self.public_id,
            "fileName": self.file_name,
            "contentType": self.mime,
            "size": self.size_bytes,
        })
    }
}

/// The ticket attachment object.
pub fn ticket_json(id: &str, name: &str, mime: &str, size: i64, at: NaiveDateTime) -> Value {
    json!({
        "attachmentId": id,
        "fileName": name,
        "contentType": mime,
        "disposition": "attachment",
        "size": size,
        "createdDt": millis(at),
    })
}

/// A file of a service by attachment ID.
pub fn find(conn: &mut DbConn, service_id: i64, public_id: &str) -> QueryResult<Option<ApiFile>> {
    if public_id.len() != 32 || !public_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    api_files::table
        .find(public_id.to_ascii_lowercase())
        .filter(api_files::service_id.eq(service_id))
        .select(ApiFile::as_select())
        .first(conn)
        .optional()
}

/// Records an upload waiting to be referenced; returns the row.
pub fn insert_pending(
    conn: &mut DbConn,
    service_id: i64,
    kind: FileKind,
    name: &str,
    path: &str,
    mime: &str,
    size: i64,
) -> QueryResult<ApiFile> {
    let row = ApiFile {
        public_id: crate::crypto::random_hex(16),
        service_id,
        kind: kind.as_str().into(),
        file_name: name.into(),
        stored_path: path.into(),
        mime: mime.into(),
        size_bytes: size,
        created_at: now(),
        ticket_attachment_id: None,
        hc_attachment_id: None,
    };
    diesel::insert_into(api_files::table)
        .values((
            api_files::public_id.eq(&row.public_id),
            api_files::service_id.eq(row.service_id),
            api_files::kind.eq(&row.kind),
            api_files::file_name.eq(&row.file_name),
            api_files::stored_path.eq(&row.stored_path),
            api_files::mime.eq(&row.mime),
            api_files::size_bytes.eq(row.size_bytes),
            api_files::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// Links pending uploads to the ticket attachments recorded from them (matched by stored path).
pub fn link_ticket_uploads(
    conn: &mut DbConn,
    uploads: &[ApiFile],
    attachments: &[TicketAttachment],
) -> QueryResult<()> {
    for u in uploads {
        if let Some(a) = attachments.iter().find(|a| a.stored_path == u.stored_path) {
            diesel::update(api_files::table.find(&u.public_id))
                .set(api_files::ticket_attachment_id.eq(Some(a.id)))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Links a pending FAQ or notice upload to the attachment row recorded from it.
pub fn link_hc_upload(conn: &mut DbConn, public_id: &str, attachment_id: i64) -> QueryResult<()> {
    diesel::update(api_files::table.find(public_id))
        .set(api_files::hc_attachment_id.eq(Some(attachment_id)))
        .execute(conn)?;
    Ok(())
}

/// What a mapping row copies from the attachment it names.
struct Facts<'a> {
    name: &'a str,
    path: &'a str,
    mime: &'a str,
    size: i64,
    at: NaiveDateTime,
}

fn insert_mapping(
    conn: &mut DbConn,
    service_id: i64,
    kind: FileKind,
    f: &Facts<'_>,
    link: (Option<i64>, Option<i64>),
) -> QueryResult<()> {
    let id = crate::crypto::random_hex(16);
    let (name, path, mime, size, at) = (f.name, f.path, f.mime, f.size, f.at);
    crate::db_dispatch!(conn, |c| diesel::insert_into(api_files::table)
        .values((
            api_files::public_id.eq(&id),
            api_files::service_id.eq(service_id),
            api_files::kind.eq(kind.as_str()),
            api_files::file_name.eq(name),
            api_files::stored_path.eq(path),
            api_files::mime.eq(mime),
            api_files::size_bytes.eq(size),
            api_files::created_at.eq(at),
            api_files::ticket_attachment_id.eq(link.0),
            api_files::hc_attachment_id.eq(link.1),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// The attachment IDs of ticket attachments, creating the missing ones (inside a write
/// transaction): attachment key → 32-hex ID.
pub fn ticket_ids(
    conn: &mut DbConn,
    service_id: i64,
    atts: &[TicketAttachment],
) -> QueryResult<HashMap<i64, String>> {
    if atts.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<i64> = atts.iter().map(|a| a.id).collect();
    let load = |conn: &mut DbConn| -> QueryResult<HashMap<i64, String>> {
        let rows: Vec<(Option<i64>, String)> = api_files::table
            .filter(api_files::ticket_attachment_id.eq_any(&keys))
            .select((api_files::ticket_attachment_id, api_files::public_id))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, p)| k.map(|k| (k, p)))
            .collect())
    };
    let mut map = load(conn)?;
    let missing: Vec<&TicketAttachment> =
        atts.iter().filter(|a| !map.contains_key(&a.id)).collect();
    if missing.is_empty() {
        return Ok(map);
    }
    for a in missing {
        let facts = Facts {
            name: &a.file_name,
            path: &a.stored_path,
            mime: &a.mime,
            size: a.size_bytes,
            at: a.created_at,
        };
        insert_mapping(
            conn,
            service_id,
            FileKind::Ticket,
            &facts,
            (Some(a.id), None),
        )?;
    }
    map = load(conn)?;
    Ok(map)
}

/// The attachment IDs of FAQ or notice attachments, creating the missing ones.
pub fn doc_ids(
    conn: &mut DbConn,
    service_id: i64,
    kind: FileKind,
    atts: &[Attachment],
) -> QueryResult<HashMap<i64, String>> {
    if atts.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<i64> = atts.iter().map(|a| a.id).collect();
    let load = |conn: &mut DbConn| -> QueryResult<HashMap<i64, String>> {
        let rows: Vec<(Option<i64>, String)> = api_files::table
            .filter(api_files::hc_attachment_id.eq_any(&keys))
            .select((api_files::hc_attachment_id, api_files::public_id))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, p)| k.map(|k| (k, p)))
            .collect())
    };
    let map = load(conn)?;
    let mut added = false;
    for a in atts.iter().filter(|a| !map.contains_key(&a.id)) {
        added = true;
        let facts = Facts {
            name: &a.file_name,
            path: &a.stored_path,
            mime: &a.mime,
            size: a.size_bytes,
            at: a.created_at,
        };
        insert_mapping(conn, service_id, kind, &facts, (None, Some(a.id)))?;
    }
    if added { load(conn) } else { Ok(map) }
}

/// The notice/FAQ attachment objects of a document (IDs created as needed).
pub fn doc_list(
    conn: &mut DbConn,
    service_id: i64,
    kind: FileKind,
    atts: &[Attachment],
) -> QueryResult<Vec<Value>> {
    let ids = doc_ids(conn, service_id, kind, atts)?;
    Ok(atts
        .iter()
        .filter_map(|a| {
            ids.get(&a.id).map(|id| {
                json!({
                    "attachmentId": id,
                    "fileName": a.file_name,
                    "contentType": a.mime,
                    "size": a.size_bytes,
                })
            })
        })
        .collect())
}

/// Removes uploads of a service nobody referenced within [`PENDING_LIFETIME`]; returns their
/// stored paths for removal after the commit.
pub fn purge_pending(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<String>> {
    let cutoff = now() - PENDING_LIFETIME;
    let old = api_files::table
        .filter(api_files::service_id.eq(service_id))
        .filter(api_files::ticket_attachment_id.is_null())
        .filter(api_files::hc_attachment_id.is_null())
        .filter(api_files::created_at.lt(cutoff));
    let paths: Vec<String> = old.select(api_files::stored_path).limit(500).load(conn)?;
    if !paths.is_empty() {
        diesel::delete(
            api_files::table
                .filter(api_files::service_id.eq(service_id))
                .filter(api_files::stored_path.eq_any(&paths))
                .filter(api_files::ticket_attachment_id.is_null())
                .filter(api_files::hc_attachment_id.is_null()),
        )
        .execute(conn)?;
    }
    Ok(paths)
}

fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Sends a file: `open` inline (the default) or `download` as an attachment.
pub async fn serve(
    state: &web::Data<AppState>,
    file: ApiFile,
    download: bool,
) -> Result<HttpResponse, ApiError> {
    let full = state.config.data_dir.join(&file.stored_path);
    let bytes = web::block(move || std::fs::read(full))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
        .map_err(|_| ApiError::NotFound)?;
    let disposition = header::ContentDisposition {
        disposition: if download {
            header::DispositionType::Attachment
        } else {
            header::DispositionType::Inline
        },
        parameters: vec![
            header::DispositionParam::Filename(ascii_fallback(&file.file_name)),
            header::DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file.file_name.clone().into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.mime))
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(bytes))
}
