//! Importing inbound mail (SPEC §3.7, §5.4, §7.2): one poll of an account
//! ([`poll_account_once`]) connects, selects INBOX and handles every message after the
//! account's last UID, oldest first:
//!
//! - a new message becomes a ticket (channel e-mail; the customer linked or created by address;
//!   subject; sanitised body; attachments under the help-center limits — refused files are
//!   listed in a note under the body; the entry keeps the Message-ID), and the customer gets the
//!   receipt mail through the outbox, threaded to their message;
//! - a reply — In-Reply-To/References naming a mail we sent (`mail_outbox.message_id`) or a
//!   message of the ticket (`ticket_entries.mail_message_id`), or the subject's ` [#T…]` token
//!   when the sender is the ticket's customer — is added to its ticket as a customer follow-up
//!   (`lifecycle::customer_followup`: a solved ticket reopens);
//! - a reply to a completed ticket starts a new ticket whose timeline names the old one;
//! - automatic mail (auto-replies, out-of-office, bulk and list mail) is never answered: a new
//!   one becomes a ticket without a receipt, one that answers a ticket is attached to it without
//!   reopening it (so an out-of-office reply to our answer cannot reopen or loop);
//! - bounces and mail from our own addresses are quarantined (never answered, never tickets);
//! - a malformed, oversized or unreadable message is quarantined with the reason.
//!
//! Exactly-once: each message is handled in one transaction that also records its Message-ID
//! (unique per service) and moves the account's last UID past it, so a crash or restart
//! neither skips nor duplicates; a message seen again (another account, a re-delivery, a
//! recreated mailbox) is recognised by its Message-ID and skipped. A poll holds a lease on the
//! account, so two pollers never import the same mailbox at once. Originals are deleted after
//! the commit when the account says so (quarantined ones are kept on the server).

use std::fmt;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use futures_util::TryStreamExt;

use super::accounts::MailAccount;
use super::decode::{self, Decoded, Rejected};
use super::imap::{self, Stage};
use super::quarantine::{self, NewQuarantined};
use crate::AppState;
use crate::common::text::escape_html;
use crate::crypto::SecretKey;
use crate::customers::{self, Contact, Customer};
use crate::db::schema::tickets as ticket_rows;
use crate::db::schema::{mail_imports, mail_outbox, ticket_entries};
use crate::db::types::{CustomerId, ServiceId, TicketId};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::attachments::{self, Incoming, MAX_FILE_BYTES, MAX_FILES, StoredFile};
use crate::i18n::{self, Lang};
use crate::org::info::UPLOADS_DIR;
use crate::tenancy::service::Service;
use crate::tenancy::service::default_lang;
use crate::tickets::intake::{self, Intake, Receipt};
use crate::tickets::lifecycle;
use crate::tickets::{self, Channel, EntryKind, Status, Ticket};

/// Largest message imported; larger ones are quarantined without being downloaded.
pub const MAX_MESSAGE_BYTES: u32 = 25 * 1024 * 1024;
/// Most messages handled per poll (the poller comes back at once for the rest).
const BATCH: usize = 200;
/// How long a poll holds its account before it must renew.
const LEASE: TimeDelta = TimeDelta::minutes(2);
/// How long [`poll_account_once`] waits for another poll of the same account to finish.
const LEASE_WAIT: Duration = Duration::from_secs(180);

/// What a poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Messages that became tickets or follow-ups.
    pub imported: usize,
    /// Messages quarantined.
    pub quarantined: usize,
    /// Messages already imported (recognised by Message-ID) or gone from the server.
    pub skipped: usize,
    /// More messages wait than one poll handles.
    pub more: bool,
    /// The server offers IDLE.
    pub idle: bool,
}

/// Why a poll did not run or stopped.
#[derive(Debug)]
pub enum PollError {
    /// The account (or its service) is disabled or gone.
    Disabled,
    /// Another poll held the account for too long.
    Busy,
    /// The IMAP server failed (the position is kept; the next poll retries).
    Imap(imap::Failure),
    /// The database failed (the position is kept; the next poll retries).
    Db(AppError),
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollError::Disabled => write!(f, "the account is disabled"),
            PollError::Busy => write!(f, "another poll holds the account"),
            PollError::Imap(e) => write!(f, "{e}"),
            PollError::Db(e) => write!(f, "database: {e}"),
        }
    }
}

impl From<AppError> for PollError {
    fn from(e: AppError) -> Self {
        PollError::Db(e)
    }
}

/// Polls one account now: waits for a poll already running on it, then imports everything new.
/// The outcome is recorded on the account (last poll time, last error).
pub async fn poll_account_once(state: &AppState, account_id: i64) -> Result<PollReport, PollError> {
    poll(state, account_id, true).await
}

/// Polls one account now unless a poll is already running on it ([`PollError::Busy`] at
/// once): for the "Fetch now" button, which should not keep a page waiting.
pub async fn poll_account_if_free(
    state: &AppState,
    account_id: i64,
) -> Result<PollReport, PollError> {
    poll(state, account_id, false).await
}

async fn poll(state: &AppState, account_id: i64, wait: bool) -> Result<PollReport, PollError> {
    let started = std::time::Instant::now();
    loop {
        let got = state
            .db
            .write(move |c| Ok(MailAccount::acquire(c, account_id, LEASE)?))
            .await?;
        if got {
            break;
        }
        let acc = state
            .db
            .read(move |c| Ok(MailAccount::get(c, account_id)?))
            .await?;
        if !acc.is_some_and(|a| a.enabled) {
            return Err(PollError::Disabled);
        }
        if !wait || started.elapsed() > LEASE_WAIT {
            return Err(PollError::Busy);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = run_round(state, account_id).await;
    let error = match &result {
        Ok(_) | Err(PollError::Disabled) => String::new(),
        Err(PollError::Imap(f)) => format!("{}: {}", f.stage.code(), f.detail),
        Err(e) => e.to_string(),
    };
    if let Err(e) = &result {
        tracing::warn!(account = account_id, error = %e, "mail poll failed");
    }
    state
        .db
        .write(move |c| Ok(MailAccount::finish_poll(c, account_id, &error)?))
        .await?;
    result
}

/// What a poll knows about its account and service.
#[derive(Clone)]
struct Ctx {
    account: MailAccount,
    service: Service,
    uid_validity: u32,
    own_addresses: Vec<String>,
    lang: Lang,
    langs: Vec<Lang>,
}

/// How one message ended.
enum Handled {
    Imported,
    Duplicate,
    Quarantined,
    Gone,
}

async fn run_round(state: &AppState, account_id: i64) -> Result<PollReport, PollError> {
    let loaded = state
        .db
        .read(move |c| {
            let Some(account) = MailAccount::get(c, account_id)? else {
                return Ok(None);
            };
            let service = crate::db::schema::services::table
                .find(account.service_id)
                .select(Service::as_select())
                .first(c)?;
            let mut own = MailAccount::all_addresses(c)?;
            if let Some(s) = crate::notify::SmtpSettings::load(c)? {
                own.push(s.from_address.to_lowercase());
            }
            own.extend(crate::notify::layouts::SenderInfo::all_addresses(c)?);
            Ok(Some((account, service, own)))
        })
        .await?;
    let Some((account, service, own_addresses)) = loaded else {
        return Err(PollError::Disabled);
    };
    if !account.enabled || !service.enabled {
        return Err(PollError::Disabled);
    }
    let target = account.target(&state.secret);
    let mut opened = imap::open(&target).await.map_err(PollError::Imap)?;
    let mut report = PollReport {
        idle: opened.idle,
        ..PollReport::default()
    };
    let validity = opened.inbox.uid_validity;
    let mut last = u32::try_from(account.last_uid).unwrap_or(0);
    if account.uid_validity != Some(i64::from(validity)) {
        tracing::info!(
            account = account_id,
            validity,
            "new UIDVALIDITY: the inbox is read again"
        );
        state
            .db
            .write(move |c| Ok(MailAccount::reset_position(c, account_id, validity)?))
            .await?;
        last = 0;
    }
    let ctx = Ctx {
        lang: default_lang(&service),
        langs: service.languages(),
        account,
        service,
        uid_validity: validity,
        own_addresses,
    };
    if opened.inbox.exists > 0 {
        let mut list = list_new(&mut opened.session, last).await?;
        if list.len() > BATCH {
            list.truncate(BATCH);
            report.more = true;
        }
        let mut delete = Vec::new();
        for (uid, size) in list {
            state
                .db
                .write(move |c| Ok(MailAccount::renew(c, account_id, LEASE)?))
                .await?;
            match handle_one(state, &ctx, &mut opened.session, uid, size).await? {
                Handled::Imported => {
                    report.imported += 1;
                    delete.push(uid);
                }
                Handled::Duplicate => {
                    report.skipped += 1;
                    delete.push(uid);
                }
                Handled::Gone => report.skipped += 1,
                Handled::Quarantined => report.quarantined += 1,
            }
        }
        if ctx.account.delete_after_import && !delete.is_empty() {
            delete_originals(&mut opened, &delete).await?;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), opened.session.logout()).await;
    Ok(report)
}

fn command_failure(e: impl fmt::Display) -> PollError {
    PollError::Imap(imap::Failure {
        stage: Stage::Command,
        detail: e.to_string().chars().take(500).collect(),
    })
}

/// UIDs and sizes of the messages after `last`, oldest first.
async fn list_new(session: &mut imap::Session, last: u32) -> Result<Vec<(u32, u32)>, PollError> {
    let from = last.saturating_add(1);
    let fetches: Vec<async_imap::types::Fetch> =
        tokio::time::timeout(imap::COMMAND_TIMEOUT, async {
            session
                .uid_fetch(format!("{from}:*"), "(UID RFC822.SIZE)")
                .await?
                .try_collect()
                .await
        })
        .await
        .map_err(|_| command_failure("listing the inbox timed out"))?
        .map_err(command_failure)?;
    let mut list: Vec<(u32, u32)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
        .filter(|(uid, _)| *uid > last)
        .collect();
    list.sort_unstable();
    list.dedup_by_key(|(uid, _)| *uid);
    Ok(list)
}

async fn delete_originals(opened: &mut imap::Opened, uids: &[u32]) -> Result<(), PollError> {
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let session = &mut opened.session;
    tokio::time::timeout(imap::COMMAND_TIMEOUT, async {
        session
            .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await?;
        if opened.uidplus {
            session
                .uid_expunge(&set)
                .await?
                .try_collect::<Vec<_>>()
                .await?;
        } else {
            session.expunge().await?.try_collect::<Vec<_>>().await?;
        }
        Ok::<(), async_imap::error::Error>(())
    })
    .await
    .map_err(|_| command_failure("deleting the originals timed out"))?
    .map_err(command_failure)
}

/// Downloads one message.
async fn fetch_raw(
    session: &mut imap::Session,
    uid: u32,
) -> Result<Option<Vec<u8>>, async_imap::error::Error> {
    let fetches: Vec<async_imap::types::Fetch> = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await?
        .try_collect()
        .await?;
    Ok(fetches
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body())
        .map(<[u8]>::to_vec))
}

async fn handle_one(
    state: &AppState,
    ctx: &Ctx,
    session: &mut imap::Session,
    uid: u32,
    size: u32,
) -> Result<Handled, PollError> {
    if size > MAX_MESSAGE_BYTES {
        let detail = format!(
            "{:.1} MB is more than the {} MB limit",
            f64::from(size) / 1024.0 / 1024.0,
            MAX_MESSAGE_BYTES / 1024 / 1024
        );
        put_in_quarantine(
            state,
            ctx,
            uid,
            None,
            i64::from(size),
            "too_large",
            &detail,
            None,
        )
        .await?;
        return Ok(Handled::Quarantined);
    }
    let fetched = tokio::time::timeout(imap::COMMAND_TIMEOUT, fetch_raw(session, uid)).await;
    let raw = match fetched {
        Err(_) => return Err(command_failure("downloading a message timed out")),
        Ok(Err(async_imap::error::Error::Parse(e))) => {
            // The server's answer for this message cannot be read: set it aside so the
            // account moves on, and reconnect for the rest.
            put_in_quarantine(
                state,
                ctx,
                uid,
                None,
                i64::from(size),
                "unreadable",
                &e.to_string(),
                None,
            )
            .await?;
            return Err(command_failure(format!(
                "unreadable answer for UID {uid}: {e}"
            )));
        }
        Ok(Err(e)) => return Err(command_failure(e)),
        Ok(Ok(None)) => {
            let id = ctx.account.id;
            state
                .db
                .write(move |c| Ok(MailAccount::advance(c, id, uid)?))
                .await?;
            return Ok(Handled::Gone);
        }
        Ok(Ok(Some(raw))) => raw,
    };
    let raw_size = raw.len() as i64;
    let (raw, decoded) = match actix_web::web::block(move || {
        let d = decode::decode(&raw);
        (raw, d)
    })
    .await
    {
        Ok(v) => v,
        Err(e) => {
            // The parser panicked: without the bytes (they went down with it) the message
            // is recorded by UID so the account goes on.
            put_in_quarantine(
                state,
                ctx,
                uid,
                None,
                raw_size,
                "malformed",
                &format!("the message could not be parsed ({e})"),
                None,
            )
            .await?;
            return Ok(Handled::Quarantined);
        }
    };
    let d = match decoded {
        Err(rejected) => {
            put_in_quarantine(
                state,
                ctx,
                uid,
                Some(raw),
                raw_size,
                rejected.reason,
                &rejected.detail.clone(),
                Some(&rejected),
            )
            .await?;
            return Ok(Handled::Quarantined);
        }
        Ok(d) => d,
    };
    let known = |d: &Decoded| Rejected {
        reason: "",
        detail: String::new(),
        message_id: d.message_id.clone(),
        from_address: d.from_address.clone(),
        subject: d.subject.clone(),
    };
    if ctx
        .own_addresses
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&d.from_address))
    {
        let info = known(&d);
        put_in_quarantine(
            state,
            ctx,
            uid,
            Some(raw),
            raw_size,
            "own_address",
            &format!("sent from our own address {}", d.from_address),
            Some(&info),
        )
        .await?;
        return Ok(Handled::Quarantined);
    }
    if d.bounce {
        let info = known(&d);
        put_in_quarantine(
            state,
            ctx,
            uid,
            Some(raw),
            raw_size,
            "bounce",
            "a delivery report (bounce) or another automatic report",
            Some(&info),
        )
        .await?;
        return Ok(Handled::Quarantined);
    }
    import(state, ctx, uid, raw, raw_size, d).await
}

/// Splits attachments into the ones stored (help-center limits) and notes on the ones refused.
fn screen_files(lang: Lang, files: Vec<decode::MailFile>) -> (Vec<Incoming>, Vec<String>) {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for f in files {
        let incoming = Incoming {
            too_large: f.bytes.len() >= MAX_FILE_BYTES,
            bytes: if f.bytes.len() >= MAX_FILE_BYTES {
                Vec::new()
            } else {
                f.bytes
            },
            name: f.name,
        };
        if accepted.len() >= MAX_FILES {
            refused.push(i18n::tf(
                lang,
                "imap.file_too_many",
                &[("name", &incoming.name), ("max", &MAX_FILES.to_string())],
            ));
            continue;
        }
        match attachments::check_files(lang, 0, std::slice::from_ref(&incoming)) {
            Ok(()) => accepted.push(incoming),
            Err(reason) => refused.push(reason),
        }
    }
    (accepted, refused)
}

/// The ticket language: the message's, when the service offers it, else the service default.
fn ticket_lang(ctx: &Ctx, d: &Decoded) -> Lang {
    d.lang.filter(|l| ctx.langs.contains(l)).unwrap_or(ctx.lang)
}

async fn import(
    state: &AppState,
    ctx: &Ctx,
    uid: u32,
    raw: Vec<u8>,
    raw_size: i64,
    d: Decoded,
) -> Result<Handled, PollError> {
    let lang = ticket_lang(ctx, &d);
    let (accepted, refused) = screen_files(lang, d.files.clone());
    let mut body = d.body_html.clone();
    if !refused.is_empty() {
        body.push_str(&format!(
            "<p class=\"mail-refused\">{}</p><ul class=\"mail-refused\">{}</ul>",
            escape_html(&i18n::t(lang, "imap.files_refused")),
            refused
                .iter()
                .map(|r| format!("<li>{}</li>", escape_html(r)))
                .collect::<String>()
        ));
    }
    let data_dir = state.config.data_dir.clone();
    let sid = ctx.service.id;
    let stored: Vec<StoredFile> = if accepted.is_empty() {
        Vec::new()
    } else {
        actix_web::web::block(move || {
            attachments::store_files_in(
                &data_dir,
                &format!("{UPLOADS_DIR}/tickets/{sid}"),
                accepted,
            )
        })
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
        .map_err(|e| AppError::Internal(format!("storing attachments: {e}")))?
    };
    let job = ImportJob {
        service_id: sid,
        service_name: ctx.service.name.clone(),
        account_id: ctx.account.id,
        uid,
        lang,
        body,
        files: stored.clone(),
        mail: d.clone(),
    };
    let secret = state.secret.clone();
    let result = state.db.write(move |c| import_tx(c, &secret, &job)).await;
    match result {
        Ok(true) => Ok(Handled::Imported),
        Ok(false) => {
            remove_stored(state, stored).await;
            Ok(Handled::Duplicate)
        }
        Err(e) => {
            remove_stored(state, stored).await;
            // A database that still answers failed on this message: quarantine it so the
            // account moves on. A database that does not answer is a passing failure.
            let healthy = state.db.read(|c| Ok(db_alive(c))).await.unwrap_or(false);
            if !healthy {
                return Err(PollError::Db(e));
            }
            let mid = d.message_id.clone();
            let again = state
                .db
                .read(move |c| Ok(already_imported(c, sid, &mid)?))
                .await?;
            if again {
                let id = ctx.account.id;
                state
                    .db
                    .write(move |c| Ok(MailAccount::advance(c, id, uid)?))
                    .await?;
                return Ok(Handled::Duplicate);
            }
            tracing::warn!(account = ctx.account.id, uid, error = %e, "import failed; message quarantined");
            let info = Rejected {
                reason: "import_failed",
                detail: String::new(),
                message_id: d.message_id.clone(),
                from_address: d.from_address.clone(),
                subject: d.subject.clone(),
            };
            put_in_quarantine(
                state,
                ctx,
                uid,
                Some(raw),
                raw_size,
                "import_failed",
                &e.to_string(),
                Some(&info),
            )
            .await?;
            Ok(Handled::Quarantined)
        }
    }
}

async fn remove_stored(state: &AppState, files: Vec<StoredFile>) {
    if files.is_empty() {
        return;
    }
    let dir = state.config.data_dir.clone();
    let _ = actix_web::web::block(move || {
        attachments::remove_files(&dir, files.into_iter().map(|f| f.path));
    })
    .await;
}

fn db_alive(c: &mut DbConn) -> bool {
    diesel::sql_query("SELECT 1").execute(c).is_ok()
}

fn already_imported(c: &mut DbConn, service_id: i64, message_id: &str) -> QueryResult<bool> {
    Ok(mail_imports::table
        .filter(mail_imports::service_id.eq(service_id))
        .filter(mail_imports::message_id.eq(message_id))
        .select(mail_imports::id)
        .first::<i64>(c)
        .optional()?
        .is_some())
}

#[allow(clippy::too_many_arguments)]
async fn put_in_quarantine(
    state: &AppState,
    ctx: &Ctx,
    uid: u32,
    raw: Option<Vec<u8>>,
    raw_size: i64,
    reason: &'static str,
    detail: &str,
    info: Option<&Rejected>,
) -> Result<(), PollError> {
    let sid = ctx.service.id;
    let stored_path = match raw {
        None => None,
        Some(raw) => {
            let data_dir = state.config.data_dir.clone();
            let rel = format!(
                "{UPLOADS_DIR}/mail-quarantine/{sid}/{}.eml",
                crate::crypto::random_hex(16)
            );
            let rel2 = rel.clone();
            actix_web::web::block(move || {
                let full = data_dir.join(&rel2);
                if let Some(dir) = full.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(full, raw)
            })
            .await
            .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
            .map_err(|e| AppError::Internal(format!("storing a quarantined message: {e}")))?;
            Some(rel)
        }
    };
    let q = NewQuarantined {
        service_id: sid,
        account_id: ctx.account.id,
        account_name: ctx.account.display_name.clone(),
        uid_validity: ctx.uid_validity,
        uid,
        message_id: info.map(|i| i.message_id.clone()).unwrap_or_default(),
        from_addr: info.map(|i| i.from_address.clone()).unwrap_or_default(),
        subject: info.map(|i| i.subject.clone()).unwrap_or_default(),
        reason,
        detail: detail.to_string(),
        raw_size,
        stored_path: stored_path.clone(),
    };
    let account_id = ctx.account.id;
    let written = state
        .db
        .write(move |c| {
            let written = quarantine::insert(c, &q)?;
            MailAccount::advance(c, account_id, uid)?;
            Ok(written)
        })
        .await;
    match written {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => {
            if let Some(p) = stored_path {
                attachments::remove_files(&state.config.data_dir, [p]);
            }
            written.map(|_| ()).map_err(PollError::Db)
        }
    }
}

/// Everything one import transaction needs.
struct ImportJob {
    service_id: i64,
    service_name: String,
    account_id: i64,
    uid: u32,
    lang: Lang,
    body: String,
    files: Vec<StoredFile>,
    mail: Decoded,
}

/// The ticket a message answers, and whether its headers (not only the subject) said so.
fn find_thread(c: &mut DbConn, service_id: i64, d: &Decoded) -> QueryResult<Option<Ticket>> {
    for id in &d.thread_ids {
        let from_outbox: Option<Option<i64>> = mail_outbox::table
            .filter(mail_outbox::message_id.eq(id))
            .filter(mail_outbox::service_id.eq(service_id))
            .order(mail_outbox::id.desc())
            .select(mail_outbox::ticket_id)
            .first(c)
            .optional()?;
        if let Some(Some(tid)) = from_outbox
            && let Some(t) = Ticket::find(c, ServiceId(service_id), TicketId(tid))?
        {
            return Ok(Some(t));
        }
        let from_entries: Vec<i64> = ticket_entries::table
            .filter(ticket_entries::mail_message_id.eq(id))
            .order(ticket_entries::id.desc())
            .limit(10)
            .select(ticket_entries::ticket_id)
            .load(c)?;
        for tid in from_entries {
            if let Some(t) = Ticket::find(c, ServiceId(service_id), TicketId(tid))? {
                return Ok(Some(t));
            }
        }
    }
    if let Some(public_id) = decode::subject_token(&d.subject)
        && let Some(t) = Ticket::find_by_public_id(c, service_id, &public_id)?
    {
        // The token alone is trusted only from the ticket's own customer.
        let customer = match t.customer_id {
            Some(cid) => Customer::find(c, ServiceId(service_id), CustomerId(cid))?,
            None => None,
        };
        if customer.is_some_and(|cu| {
            customers::normalize_email(&cu.email) == customers::normalize_email(&d.from_address)
        }) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Opens a ticket for a message through [`intake::open`] (with the receipt, threaded under the
/// message, unless it is an automatic one); returns the ticket key.
fn open_ticket(
    c: &mut DbConn,
    secret: &SecretKey,
    job: &ImportJob,
    previous: Option<&Ticket>,
) -> QueryResult<i64> {
    let d = &job.mail;
    let contact = Contact {
        name: d.from_name.clone(),
        email: d.from_address.clone(),
        phone: String::new(),
    };
    let mut subject = decode::clean_subject(&d.subject);
    if subject.is_empty() {
        subject = i18n::t(job.lang, "imap.no_subject");
    }
    let receipt = if d.automatic {
        Receipt::None
    } else {
        Receipt::ReplyTo {
            service_name: &job.service_name,
            message_id: &d.message_id,
        }
    };
    let created = intake::open(
        c,
        secret,
        &Intake {
            contact: Some(&contact),
            files: &job.files,
            receipt,
            ..Intake::new(
                job.service_id,
                Channel::Email,
                job.lang,
                &subject,
                &job.body,
            )
        },
    )?;
    diesel::update(
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(created.id))
            .filter(ticket_entries::kind.eq(EntryKind::CustomerMessage.as_str())),
    )
    .set(ticket_entries::mail_message_id.eq(Some(&d.message_id)))
    .execute(c)?;
    if let Some(old) = previous {
        let note = i18n::tf(job.lang, "imap.followup_of", &[("id", &old.public_id)]);
        tickets::add_entry(
            c,
            created.id,
            EntryKind::SystemEvent,
            None,
            &format!("<p>{}</p>", escape_html(&note)),
        )?;
        tickets::record_event(c, created.id, "followup_of", None, &old.public_id)?;
        tickets::record_event(c, old.id, "continued_in", None, &created.public_id)?;
    }
    Ok(created.id)
}

/// Imports one message in one transaction; `Ok(false)` when its Message-ID was already
/// imported in this service.
fn import_tx(c: &mut DbConn, secret: &SecretKey, job: &ImportJob) -> Result<bool, AppError> {
    let d = &job.mail;
    if already_imported(c, job.service_id, &d.message_id)? {
        MailAccount::advance(c, job.account_id, job.uid)?;
        return Ok(false);
    }
    let thread = find_thread(c, job.service_id, d)?;
    let (ticket_id, entry_id, outcome) = match thread {
        Some(t) if d.automatic => {
            let entry = tickets::add_entry(c, t.id, EntryKind::CustomerFollowup, None, &job.body)?;
            diesel::update(ticket_entries::table.filter(ticket_entries::id.eq(entry)))
                .set(ticket_entries::mail_message_id.eq(Some(&d.message_id)))
                .execute(c)?;
            tickets::add_attachments(c, t.id, entry, &job.files)?;
            tickets::record_event(c, t.id, "auto_reply", None, "")?;
            diesel::update(ticket_rows::table.filter(ticket_rows::id.eq(t.id)))
                .set(ticket_rows::updated_at.eq(now()))
                .execute(c)?;
            (t.id, Some(entry), "automatic_reply")
        }
        Some(t) if t.status() == Status::Closed => {
            let id = open_ticket(c, secret, job, Some(&t))?;
            (id, None, "new_after_closed")
        }
        Some(t) => {
            let entry =
                lifecycle::customer_followup(c, &t, &job.body, &job.files, Some(&d.message_id))?;
            (t.id, Some(entry), "followup")
        }
        None => {
            let id = open_ticket(c, secret, job, None)?;
            (id, None, "ticket")
        }
    };
    diesel::insert_into(mail_imports::table)
        .values((
            mail_imports::service_id.eq(job.service_id),
            mail_imports::account_id.eq(Some(job.account_id)),
            mail_imports::message_id.eq(&d.message_id),
            mail_imports::ticket_id.eq(Some(ticket_id)),
            mail_imports::entry_id.eq(entry_id),
            mail_imports::outcome.eq(outcome),
            mail_imports::created_at.eq(now()),
        ))
        .execute(c)?;
    MailAccount::advance(c, job.account_id, job.uid)?;
    Ok(true)
}
