//! Attachments of FAQ documents and notices (SPEC §4.1 limits): at most five per document, each
//! under 10 MB, a file name under 100 characters, an extension from the allow-list, and content
//! whose first bytes match that extension (a renamed executable is refused). Files live under
//! `<data_dir>/uploads/hc/<service id>/`, named by a random token; the database keeps the
//! original name, which downloads are offered under.

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::StreamExt;

use crate::AppState;
use crate::db::schema::hc_attachments;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::access::HcStaff;
use crate::i18n::{self, Lang};
use crate::org::info::UPLOADS_DIR;

/// Most attachments per document.
pub const MAX_FILES: usize = 5;
/// Each file must be smaller than this.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// A file name must be shorter than this (characters).
pub const MAX_NAME_CHARS: usize = 100;
/// A multipart body larger than this is refused outright (413).
const MAX_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 64 * 1024;

/// The allowed extensions (SPEC §4.1).
pub const EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "pdf", "txt", "hwp", "xls", "xlsx", "doc",
    "docx", "ppt", "pptx", "mp3", "wav", "zip",
];

/// What a document's attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An FAQ document.
    Faq(i64),
    /// A notice.
    Notice(i64),
}

/// A human-readable file size (`512 B`, `12 KB`, `3.4 MB`).
pub fn size_label(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", (b / 1024.0).ceil())
    } else {
        format!("{bytes} B")
    }
}

/// An attachment row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hc_attachments)]
pub struct Attachment {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// The FAQ it belongs to.
    pub faq_id: Option<i64>,
    /// The notice it belongs to.
    pub notice_id: Option<i64>,
    /// The original file name.
    pub file_name: String,
    /// Path relative to the data directory.
    pub stored_path: String,
    /// Content type served.
    pub mime: String,
    /// Size.
    pub size_bytes: i64,
    /// Uploaded.
    pub created_at: NaiveDateTime,
}

impl Attachment {
    /// A human-readable size.
    pub fn size_label(&self) -> String {
        size_label(self.size_bytes)
    }

    /// The attachments of a document, oldest first.
    pub fn of(conn: &mut DbConn, owner: Owner) -> QueryResult<Vec<Attachment>> {
        let q = hc_attachments::table
            .select(Attachment::as_select())
            .order(hc_attachments::id.asc())
            .into_boxed();
        match owner {
            Owner::Faq(id) => q.filter(hc_attachments::faq_id.eq(id)).load(conn),
            Owner::Notice(id) => q.filter(hc_attachments::notice_id.eq(id)).load(conn),
        }
    }

    /// One attachment of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Attachment>> {
        hc_attachments::table
            .find(id)
            .filter(hc_attachments::service_id.eq(service_id))
            .select(Attachment::as_select())
            .first(conn)
            .optional()
    }

    /// Stored paths of every attachment of a document (to remove the files after a delete).
    pub fn paths_of(conn: &mut DbConn, owner: Owner) -> QueryResult<Vec<String>> {
        Ok(Attachment::of(conn, owner)?
            .into_iter()
            .map(|a| a.stored_path)
            .collect())
    }
}

/// One uploaded file, read into memory (bounded by [`MAX_FILE_BYTES`]).
#[derive(Debug)]
pub struct Incoming {
    /// The client's file name (path parts removed).
    pub name: String,
    /// The bytes (only the first `MAX_FILE_BYTES + 1` are kept).
    pub bytes: Vec<u8>,
    /// Whether the file was larger than the limit.
    pub too_large: bool,
}

/// What a multipart body held.
pub enum Upload {
    /// The `file` fields that carried a file.
    Files(Vec<Incoming>),
    /// The whole body was too large.
    BodyTooLarge,
}

/// Reads every `file` field of a multipart body; other fields are drained and ignored.
pub async fn read_files(mut payload: Multipart) -> Result<Upload, AppError> {
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("error.bad_request"))?;
        let is_file = field.name() == Some("file");
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(base_name)
            .unwrap_or_default();
        let mut buf = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request"))?;
            total += chunk.len();
            size += chunk.len();
            if total > MAX_BODY {
                return Ok(Upload::BodyTooLarge);
            }
            if is_file && buf.len() <= MAX_FILE_BYTES {
                let room = MAX_FILE_BYTES + 1 - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if is_file && (size > 0 || !name.is_empty()) {
            files.push(Incoming {
                name,
                bytes: buf,
                too_large: size >= MAX_FILE_BYTES,
            });
        }
    }
    Ok(Upload::Files(files))
}

/// The last path segment of a client-supplied file name.
fn base_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The lower-cased extension of a file name.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Whether the first bytes of a file fit its extension.
pub fn content_matches(ext: &str, bytes: &[u8]) -> bool {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let zip = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06");
    match ext {
        "jpg" | "jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "bmp" => bytes.starts_with(b"BM"),
        "tif" | "tiff" => bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*"),
        "pdf" => bytes.starts_with(b"%PDF-"),
        "hwp" | "doc" | "xls" | "ppt" => bytes.starts_with(OLE),
        "docx" | "xlsx" | "pptx" | "zip" => zip,
        "mp3" => {
            bytes.starts_with(b"ID3")
                || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        }
        "wav" => bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WAVE",
        // Text in any encoding: no NUL bytes and no known binary signature.
        "txt" => {
            let head = &bytes[..bytes.len().min(8192)];
            !head.contains(&0)
                && !zip
                && !head.starts_with(OLE)
                && !head.starts_with(b"\x7fELF")
                && !head.starts_with(b"MZ")
        }
        _ => false,
    }
}

/// The content type served for an extension.
fn mime_for(ext: &str) -> String {
    match ext {
        "hwp" => "application/x-hwp".into(),
        "txt" => "text/plain; charset=utf-8".into(),
        _ => mime_guess::from_ext(ext)
            .first_or_octet_stream()
            .essence_str()
            .to_string(),
    }
}

/// Checks new files against the limits, given how many the document already has. Returns the
/// translated reason of the first failure.
pub fn check_files(lang: Lang, existing: usize, files: &[Incoming]) -> Result<(), String> {
    if files.is_empty() {
        return Err(i18n::t(lang, "hc.attach.missing"));
    }
    if existing + files.len() > MAX_FILES {
        return Err(i18n::tf(
            lang,
            "hc.attach.too_many",
            &[("max", &MAX_FILES.to_string())],
        ));
    }
    for f in files {
        let args = [("name", f.name.as_str())];
        if f.name.is_empty() || f.name.chars().count() >= MAX_NAME_CHARS {
            return Err(i18n::tf(
                lang,
                "hc.attach.name_length",
                &[("max", &MAX_NAME_CHARS.to_string())],
            ));
        }
        if f.too_large {
            return Err(i18n::tf(lang, "hc.attach.too_large", &args));
        }
        if f.bytes.is_empty() {
            return Err(i18n::tf(lang, "hc.attach.empty", &args));
        }
        let Some(ext) = extension(&f.name).filter(|e| EXTENSIONS.contains(&e.as_str())) else {
            return Err(i18n::tf(lang, "hc.attach.extension", &args));
        };
        if !content_matches(&ext, &f.bytes) {
            return Err(i18n::tf(lang, "hc.attach.content", &args));
        }
    }
    Ok(())
}

/// A file written to disk, not yet recorded.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Original name.
    pub name: String,
    /// Relative path.
    pub path: String,
    /// Content type.
    pub mime: String,
    /// Size.
    pub size: i64,
}

/// Writes checked files under the service's folder (blocking; call from `web::block`).
pub fn store_files(
    data_dir: &Path,
    service_id: i64,
    files: Vec<Incoming>,
) -> std::io::Result<Vec<StoredFile>> {
    store_files_in(data_dir, &format!("{UPLOADS_DIR}/hc/{service_id}"), files)
}

/// Writes checked files under `rel_dir` (relative to the data directory; blocking).
pub fn store_files_in(
    data_dir: &Path,
    rel_dir: &str,
    files: Vec<Incoming>,
) -> std::io::Result<Vec<StoredFile>> {
    let dir = data_dir.join(rel_dir);
    std::fs::create_dir_all(&dir)?;
    let mut stored: Vec<StoredFile> = Vec::new();
    for f in files {
        let ext = extension(&f.name).unwrap_or_else(|| "bin".into());
        let file = format!("{}.{ext}", crate::crypto::random_hex(16));
        let tmp = dir.join(format!(".{file}.tmp"));
        let result =
            std::fs::write(&tmp, &f.bytes).and_then(|()| std::fs::rename(&tmp, dir.join(&file)));
        if let Err(e) = result {
            remove_files(data_dir, stored.iter().map(|s| s.path.clone()));
            return Err(e);
        }
        stored.push(StoredFile {
            name: f.name,
            path: format!("{rel_dir}/{file}"),
            mime: mime_for(&ext),
            size: f.bytes.len() as i64,
        });
    }
    Ok(stored)
}

/// Records stored files for a document (inside the caller's transaction).
pub fn insert_rows(
    conn: &mut DbConn,
    service_id: i64,
    owner: Owner,
    files: &[StoredFile],
) -> QueryResult<()> {
    let (faq_id, notice_id) = match owner {
        Owner::Faq(id) => (Some(id), None),
        Owner::Notice(id) => (None, Some(id)),
    };
    let t = now();
    for f in files {
        diesel::insert_into(hc_attachments::table)
            .values((
                hc_attachments::service_id.eq(service_id),
                hc_attachments::faq_id.eq(faq_id),
                hc_attachments::notice_id.eq(notice_id),
                hc_attachments::file_name.eq(&f.name),
                hc_attachments::stored_path.eq(&f.path),
                hc_attachments::mime.eq(&f.mime),
                hc_attachments::size_bytes.eq(f.size),
                hc_attachments::created_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes files quietly (after their rows are gone, or when recording them failed).
pub fn remove_files(data_dir: &Path, paths: impl IntoIterator<Item = String>) {
    for p in paths {
        let full: PathBuf = data_dir.join(p);
        if let Err(e) = std::fs::remove_file(&full)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %full.display(), error = %e, "could not remove attachment");
        }
    }
}

/// Removes files on the blocking pool.
pub async fn remove_files_later(state: &web::Data<AppState>, paths: Vec<String>) {
    if paths.is_empty() {
        return;
    }
    let dir = state.config.data_dir.clone();
    let _ = web::block(move || remove_files(&dir, paths)).await;
}

/// Serves an attachment as a download under its original name.
pub async fn serve(state: &web::Data<AppState>, a: Attachment) -> Result<HttpResponse, AppError> {
    let full = state.config.data_dir.join(&a.stored_path);
    let bytes = web::block(move || std::fs::read(full))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
        .map_err(|_| AppError::NotFound)?;
    let disposition = header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![header::DispositionParam::FilenameExt(
            header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: a.file_name.clone().into_bytes(),
            },
        )],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, a.mime))
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(bytes))
}

/// The result of an upload.
pub enum Outcome {
    /// Stored and recorded.
    Saved,
    /// The body exceeded every possible limit (answer 413).
    TooLarge,
    /// Refused; the translated reason.
    Refused(String),
}

/// Reads, checks, stores and records the `file` fields of an upload for a document, in one
/// transaction (files written for a failed transaction are removed again).
pub async fn accept(s: &HcStaff, owner: Owner, payload: Multipart) -> Result<Outcome, AppError> {
    let files = match read_files(payload).await? {
        Upload::BodyTooLarge => return Ok(Outcome::TooLarge),
        Upload::Files(f) => f,
    };
    let state = s.viewer().state.clone();
    let lang = s.viewer().lang;
    let existing = state
        .db
        .read(move |c| Ok(Attachment::of(c, owner)?.len()))
        .await?;
    if let Err(msg) = check_files(lang, existing, &files) {
        return Ok(Outcome::Refused(msg));
    }
    let sid = s.service.id;
    let dir = state.config.data_dir.clone();
    let stored = web::block(move || store_files(&dir, sid, files))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))??;
    let rows = stored.clone();
    let result = state
        .db
        .write(move |c| {
            // Checked again inside the transaction: two uploads at once cannot pass five.
            if Attachment::of(c, owner)?.len() + rows.len() > MAX_FILES {
                return Ok(false);
            }
            insert_rows(c, sid, owner, &rows)?;
            Ok(true)
        })
        .await;
    match result {
        Ok(true) => Ok(Outcome::Saved),
        Ok(false) => {
            remove_files_later(&state, stored.into_iter().map(|f| f.path).collect()).await;
            Ok(Outcome::Refused(i18n::tf(
                lang,
                "hc.attach.too_many",
                &[("max", &MAX_FILES.to_string())],
            )))
        }
        Err(e) => {
            remove_files_later(&state, stored.into_iter().map(|f| f.path).collect()).await;
            Err(e)
        }
    }
}

/// Removes one attachment of a document (row, then file).
pub async fn remove(s: &HcStaff, owner: Owner, attachment_id: i64) -> Result<(), AppError> {
    let state = s.viewer().state.clone();
    let sid = s.service.id;
    let path = state
        .db
        .write(move |c| {
            let a = Attachment::find(c, sid, attachment_id)?.ok_or(AppError::NotFound)?;
            let belongs = match owner {
                Owner::Faq(id) => a.faq_id == Some(id),
                Owner::Notice(id) => a.notice_id == Some(id),
            };
            if !belongs {
                return Err(AppError::NotFound);
            }
            diesel::delete(hc_attachments::table.find(a.id)).execute(c)?;
            Ok(a.stored_path)
        })
        .await?;
    remove_files_later(&state, vec![path]).await;
    Ok(())
}

/// `GET /{service_id}/console/help-center/attachments/{attachment_id}` — any document's
/// attachment, drafts included, for the back office.
pub async fn download_attachment(
    s: HcStaff,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (sid, id) = (s.service.id, path.1);
    let state = s.viewer().state.clone();
    let a = state
        .db
        .read(move |c| Ok(Attachment::find(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    serve(&state, a).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, bytes: &[u8]) -> Incoming {
        Incoming {
            name: name.into(),
            bytes: bytes.to_vec(),
            too_large: false,
        }
    }

    #[test]
    fn extensions_and_content_must_agree() {
        assert!(content_matches("png", b"\x89PNG\r\n\x1a\n...."));
        assert!(!content_matches("png", b"MZ\x90\0"));
        assert!(content_matches("txt", "안녕하세요".as_bytes()));
        assert!(!content_matches("txt", b"MZ\x90\0\x03"));
        assert!(content_matches("docx", b"PK\x03\x04...."));
        assert!(content_matches(
            "hwp",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
        ));
        assert_eq!(extension("report.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension(".bashrc"), None);
    }

    #[test]
    fn limits_are_checked() {
        let lang = Lang::En;
        assert!(check_files(lang, 0, &[file("a.txt", b"hello")]).is_ok());
        assert!(check_files(lang, 5, &[file("a.txt", b"hello")]).is_err());
        assert!(check_files(lang, 0, &[file("a.exe", b"MZ")]).is_err());
        assert!(check_files(lang, 0, &[file("a.png", b"not a png")]).is_err());
        let long = format!("{}.txt", "a".repeat(100));
        assert!(check_files(lang, 0, &[file(&long, b"x")]).is_err());
        assert_eq!(base_name("C:\\Users\\me\\a.txt"), "a.txt");
    }
}
