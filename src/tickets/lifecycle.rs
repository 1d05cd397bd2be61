//! The ticket lifecycle (SPEC §7): the one place where a ticket's status, transfer sub-state,
//! internal-resolution reason, spam flag and assignment change. Every function runs inside the
//! caller's write transaction, enforces the transitions of SPEC §7.2, records an event (who,
//! what) and increments the ticket's `version`.
//!
//! Concurrency: each change first "claims" the ticket with
//! `UPDATE … SET version = version + 1 WHERE id = ? AND version = <the version the caller saw>`.
//! When another request changed the ticket in between, nothing is updated and the change is
//! refused with [`LifecycleError::Stale`], so a stale form never overwrites someone else's work.
//! Double submission of the same form is recognised by its client token
//! ([`process`] returns the first answer again instead of adding a second).
//!
//! The lifecycle never sends mail itself: [`process`] says which customer mail the action calls
//! for ([`CustomerMail`]), and the caller renders it and puts it in the outbox in the same
//! transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{EntryKind, Priority, Status, Ticket, add_attachments, add_entry, record_event};
use crate::db::schema::{ticket_attachments, ticket_entries, ticket_stars, tickets};
use crate::db::types::{ServiceKind, text_enum};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::attachments::StoredFile;

text_enum! {
    /// The transfer sub-state shown instead of the normal status (SPEC §7.1).
    TransferState {
        /// No transfer.
        None => "none",
        /// Transferred to issue management; the issue ticket is still open.
        IssueInProgress => "issue_in_progress",
        /// The issue ticket was held or resolved; the consultation agent follows up.
        IssueAnswered => "issue_answered",
        /// A Dooray! task was created for the ticket (SPEC §5.8).
        DoorayTransferred => "dooray_transferred",
        /// The Dooray! task is in progress (its workflow moved to "working").
        DoorayInProgress => "dooray_in_progress",
        /// The Dooray! task is done; comments stop and the ticket may be transferred again.
        DoorayAnswered => "dooray_answered",
    }
}

impl TransferState {
    /// Whether this is one of the Dooray! sub-states (SPEC §7.1).
    pub fn is_dooray(self) -> bool {
        matches!(
            self,
            TransferState::DoorayTransferred
                | TransferState::DoorayInProgress
                | TransferState::DoorayAnswered
        )
    }

    /// Whether a Dooray! task of the ticket is still open (transferred or in progress): the
    /// "Dooray comment" button shows and a new transfer waits for the answer.
    pub fn dooray_open(self) -> bool {
        matches!(
            self,
            TransferState::DoorayTransferred | TransferState::DoorayInProgress
        )
    }
}

text_enum! {
    /// Why a ticket was resolved internally (SPEC §5.5).
    InternalReason label "ticket.reason." {
        /// Spam: the ticket moves to the spam box.
        Spam => "spam",
        /// Abusive language.
        Abuse => "abuse",
        /// A test inquiry.
        Test => "test",
        /// A duplicate of another inquiry.
        Duplicate => "duplicate",
        /// Resolved by chat.
        Chat => "chat",
        /// Resolved by phone.
        Phone => "phone",
        /// Another reason.
        Other => "other",
    }
}

impl InternalReason {
    /// Whether the reason may be used on a ticket transferred to issue management
    /// (SPEC §9: not spam, abuse or duplicate).
    pub fn allowed_for_transferred(self) -> bool {
        !matches!(
            self,
            InternalReason::Spam | InternalReason::Abuse | InternalReason::Duplicate
        )
    }
}

/// The i18n key of the status label agents see (SPEC §7.1): the spam box and the transfer
/// sub-states take precedence over the plain status — the sub-states only until the agent
/// resolves the ticket (or it is completed): then the transfer is history and the status shows.
pub fn agent_label_key(t: &Ticket) -> &'static str {
    if t.is_spam {
        return "ticket.status.spam";
    }
    if matches!(t.status(), Status::Solved | Status::Closed) {
        return status_label_key(t.status());
    }
    match t.transfer_state() {
        TransferState::IssueInProgress => return "ticket.status.transfer_in_progress",
        TransferState::IssueAnswered => return "ticket.status.transfer_answered",
        TransferState::DoorayTransferred => return "dooray.status.transferred",
        TransferState::DoorayInProgress => return "dooray.status.in_progress",
        TransferState::DoorayAnswered => return "dooray.status.answered",
        TransferState::None => {}
    }
    status_label_key(t.status())
}

/// The CSS class (suffix) of the label [`agent_label_key`] picks: `spam`, `transfer` while a
/// transfer sub-state is shown, otherwise the status code.
pub fn agent_label_class(t: &Ticket) -> &'static str {
    let status = t.status();
    if t.is_spam {
        "spam"
    } else if !matches!(status, Status::Solved | Status::Closed)
        && t.transfer_state() != TransferState::None
    {
        "transfer"
    } else {
        status.as_str()
    }
}

/// The i18n key of a plain status's agent label.
pub fn status_label_key(s: Status) -> &'static str {
    match s {
        Status::New => "ticket.status.new",
        Status::Open => "ticket.status.open",
        Status::Reply => "ticket.status.reply",
        Status::Solved => "ticket.status.solved",
        Status::Closed => "ticket.status.closed",
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleError {
    /// Someone else changed the ticket since the form was loaded.
    Stale,
    /// The ticket is in the spam box: only restore or delete are possible.
    InSpam,
    /// The ticket is completed: nothing more can be done to it.
    Closed,
    /// The action does not apply to the ticket's current state.
    NotAllowed,
    /// The internal-resolution reason may not be used on a transferred ticket.
    ReasonNotAllowed,
    /// The ticket is already transferred to issue management.
    AlreadyTransferred,
    /// A database error.
    Db,
}

impl LifecycleError {
    /// The i18n key of the message shown to the agent.
    pub fn message_key(self) -> &'static str {
        match self {
            LifecycleError::Stale => "ticket.error.stale",
            LifecycleError::InSpam => "ticket.error.in_spam",
            LifecycleError::Closed => "ticket.error.closed",
            LifecycleError::NotAllowed => "ticket.error.not_allowed",
            LifecycleError::ReasonNotAllowed => "ticket.error.reason_not_allowed",
            LifecycleError::AlreadyTransferred => "ticket.error.already_transferred",
            LifecycleError::Db => "error.internal",
        }
    }
}

impl From<diesel::result::Error> for LifecycleError {
    fn from(e: diesel::result::Error) -> Self {
        tracing::error!(error = %e, "ticket lifecycle database error");
        LifecycleError::Db
    }
}

impl From<LifecycleError> for AppError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::Db => AppError::Internal("ticket lifecycle database error".into()),
            other => AppError::BadRequest(other.message_key()),
        }
    }
}

type Result<T> = std::result::Result<T, LifecycleError>;

/// Claims the ticket for a change: increments its version if it still is the one `t` was
/// read at, otherwise fails with [`LifecycleError::Stale`].
pub fn claim(conn: &mut DbConn, t: &Ticket) -> Result<()> {
    let n = diesel::update(tickets::table)
        .filter(tickets::id.eq(t.id))
        .filter(tickets::version.eq(t.version))
        .set((
            tickets::version.eq(t.version + 1),
            tickets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(LifecycleError::Stale)
    }
}

/// Refuses a change to a ticket in the spam box or completed.
fn ensure_workable(t: &Ticket) -> Result<()> {
    if t.is_spam {
        return Err(LifecycleError::InSpam);
    }
    if t.status() == Status::Closed {
        return Err(LifecycleError::Closed);
    }
    Ok(())
}

fn set_status(conn: &mut DbConn, id: i64, s: Status) -> Result<()> {
    diesel::update(tickets::table.filter(tickets::id.eq(id)))
        .set(tickets::status.eq(s.as_str()))
        .execute(conn)?;
    Ok(())
}

text_enum! {
    /// How an assignment came about (recorded in the event).
    AssignKind {
        /// The agent pulled an unassigned ticket.
        Pull => "pull",
        /// Forwarded by an agent with the forward permission.
        Forward => "forward",
        /// Batch processing.
        Batch => "batch",
        /// An assignment rule or trigger.
        Trigger => "trigger",
    }
}

/// Assigns the ticket to an agent (and group): `new` becomes `open`; other statuses stay.
/// Permission checks (forward permission, the target's assignment toggle, group membership)
/// are the caller's.
pub fn assign(
    conn: &mut DbConn,
    t: &Ticket,
    actor: Option<i64>,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
    kind: AssignKind,
) -> Result<()> {
    ensure_workable(t)?;
    claim(conn, t)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::group_id.eq(group_id),
            tickets::assignee_id.eq(assignee_id),
        ))
        .execute(conn)?;
    if t.status() == Status::New && assignee_id.is_some() {
        set_status(conn, t.id, Status::Open)?;
    }
    let detail = format!(
        "{}:{}:{}",
        kind.as_str(),
        group_id.map(|g| g.to_string()).unwrap_or_default(),
        assignee_id.map(|a| a.to_string()).unwrap_or_default()
    );
    record_event(conn, t.id, "assigned", actor, &detail)?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// What an agent does when pressing Process (SPEC §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer and resolve (`solved`, resolution mail).
    Resolve,
    /// Interim answer (`reply`, hold mail).
    Hold,
    /// Internal comment (no status change, no mail).
    Comment,
    /// Resolved internally for a reason (no mail).
    InternalResolve(InternalReason),
}

/// The customer mail an action calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerMail {
    /// The resolution mail.
    Resolve,
    /// The hold mail.
    Hold,
}

/// One Process submission.
pub struct ProcessInput<'a> {
    /// The action.
    pub action: Action,
    /// The agent.
    pub actor: i64,
    /// The sanitised answer or comment (for an internal resolution: the service's
    /// internal-resolution text, with the agent's note if any).
    pub body: &'a str,
    /// Files already written to disk.
    pub files: &'a [StoredFile],
    /// The form's one-time token against double submission.
    pub client_token: Option<&'a str>,
    /// Resolution type chosen (kept when `None`).
    pub resolution_category_id: Option<i64>,
    /// Priority chosen (kept when `None`).
    pub priority: Option<Priority>,
    /// The kind of the ticket's service.
    pub service_kind: ServiceKind,
}

/// What Process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The timeline entry written (or found, for a repeated submission).
    pub entry_id: i64,
    /// True when this was a repeated submission of a form already processed.
    pub duplicate: bool,
    /// The customer mail to send, if any.
    pub mail: Option<CustomerMail>,
}

/// Whether resolve/hold mails go to the customer: always in a consultation service; in issue
/// management only for tickets created manually there (SPEC §9), never for transferred ones.
pub fn mails_customer(t: &Ticket, service_kind: ServiceKind) -> bool {
    if t.origin_ticket_id.is_some() {
        return false;
    }
    match service_kind {
        ServiceKind::Consultation => true,
        ServiceKind::Issue => t.channel() == super::Channel::Created,
    }
}

/// Processes a ticket: resolve, hold, comment or internal resolution (SPEC §5.5, §7.2).
/// A ticket still unassigned is implicitly assigned to the acting agent for resolve and hold.
/// Resolving, holding or internally resolving an issue-management ticket that came by transfer
/// marks its consultation ticket "transfer answered".
pub fn process(conn: &mut DbConn, t: &Ticket, input: &ProcessInput<'_>) -> Result<Processed> {
    if let Some(token) = input.client_token {
        let existing: Option<i64> = ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(t.id))
            .filter(ticket_entries::client_token.eq(token))
            .select(ticket_entries::id)
            .first(conn)
            .optional()?;
        if let Some(entry_id) = existing {
            return Ok(Processed {
                entry_id,
                duplicate: true,
                mail: None,
            });
        }
    }
    ensure_workable(t)?;
    if let Action::InternalResolve(reason) = input.action
        && t.origin_ticket_id.is_some()
        && !reason.allowed_for_transferred()
    {
        return Err(LifecycleError::ReasonNotAllowed);
    }
    claim(conn, t)?;
    let kind = match input.action {
        Action::Resolve => EntryKind::AgentReply,
        Action::Hold => EntryKind::HoldReply,
        Action::Comment => EntryKind::Comment,
        Action::InternalResolve(_) => EntryKind::InternalResolution,
    };
    let entry_id = add_entry(conn, t.id, kind, Some(input.actor), input.body)?;
    if let Some(token) = input.client_token {
        diesel::update(ticket_entries::table.filter(ticket_entries::id.eq(entry_id)))
            .set(ticket_entries::client_token.eq(token))
            .execute(conn)?;
    }
    add_attachments(conn, t.id, entry_id, input.files)?;
    if let Some(cat) = input.resolution_category_id
        && t.resolution_category_id != Some(cat)
    {
        diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
            .set(tickets::resolution_category_id.eq(Some(cat)))
            .execute(conn)?;
        record_event(
            conn,
            t.id,
            "resolution_type",
            Some(input.actor),
            &cat.to_string(),
        )?;
    }
    if let Some(p) = input.priority
        && t.priority() != p
    {
        diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
            .set(tickets::priority.eq(p.as_str()))
            .execute(conn)?;
        record_event(conn, t.id, "priority", Some(input.actor), p.as_str())?;
    }
    if input.action != Action::Comment && t.assignee_id.is_none() {
        diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
            .set(tickets::assignee_id.eq(Some(input.actor)))
            .execute(conn)?;
        record_event(
            conn,
            t.id,
            "assigned",
            Some(input.actor),
            &format!("process::{}", input.actor),
        )?;
    }
    let t_now = now();
    let mail_ok = mails_customer(t, input.service_kind);
    let mail = match input.action {
        Action::Comment => {
            record_event(conn, t.id, "commented", Some(input.actor), "")?;
            None
        }
        Action::Hold => {
            set_status(conn, t.id, Status::Reply)?;
            record_event(conn, t.id, "status", Some(input.actor), "reply")?;
            mail_ok.then_some(CustomerMail::Hold)
        }
        Action::Resolve => {
            diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
                .set((
                    tickets::status.eq(Status::Solved.as_str()),
                    tickets::solved_at.eq(Some(t_now)),
                    tickets::internal_reason.eq(None::<String>),
                ))
                .execute(conn)?;
            record_event(conn, t.id, "status", Some(input.actor), "solved")?;
            mail_ok.then_some(CustomerMail::Resolve)
        }
        Action::InternalResolve(reason) => {
            let spam = reason == InternalReason::Spam;
            diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
                .set((
                    tickets::status.eq(Status::Solved.as_str()),
                    tickets::solved_at.eq(Some(t_now)),
                    tickets::internal_reason.eq(Some(reason.as_str())),
                    tickets::is_spam.eq(spam),
                    tickets::spam_prev_status.eq(spam.then_some(t.status)),
                ))
                .execute(conn)?;
            record_event(
                conn,
                t.id,
                "internal_resolution",
                Some(input.actor),
                reason.as_str(),
            )?;
            None
        }
    };
    if input.action != Action::Comment
        && let Some(origin) = t.origin_ticket_id
    {
        mark_transfer_answered(conn, origin, input.actor)?;
    }
    super::events::updated(conn, t)?;
    Ok(Processed {
        entry_id,
        duplicate: false,
        mail,
    })
}

/// The consultation ticket of an answered issue ticket becomes "transfer answered".
fn mark_transfer_answered(conn: &mut DbConn, origin_id: i64, actor: i64) -> Result<()> {
    let n = diesel::update(tickets::table)
        .filter(tickets::id.eq(origin_id))
        .filter(tickets::transfer_state.eq(TransferState::IssueInProgress.as_str()))
        .set((
            tickets::transfer_state.eq(TransferState::IssueAnswered.as_str()),
            tickets::version.eq(tickets::version + 1),
            tickets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 1 {
        record_event(conn, origin_id, "transfer_answered", Some(actor), "")?;
    }
    Ok(())
}

/// Records that a consultation ticket was transferred to issue management as `im_ticket_id`
/// (SPEC §5.7): the consultation ticket shows "transfer in progress". An unassigned ticket is
/// assigned to the transferring agent.
pub fn transferred(conn: &mut DbConn, t: &Ticket, actor: i64, im_ticket_id: i64) -> Result<()> {
    ensure_workable(t)?;
    if t.transfer_state() == TransferState::IssueInProgress {
        return Err(LifecycleError::AlreadyTransferred);
    }
    claim(conn, t)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::transfer_state.eq(TransferState::IssueInProgress.as_str()),
            tickets::transferred_to_ticket_id.eq(Some(im_ticket_id)),
        ))
        .execute(conn)?;
    if t.assignee_id.is_none() {
        diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
            .set(tickets::assignee_id.eq(Some(actor)))
            .execute(conn)?;
    }
    if matches!(t.status(), Status::New | Status::Solved) {
        set_status(conn, t.id, Status::Open)?;
    }
    record_event(
        conn,
        t.id,
        "transferred",
        Some(actor),
        &im_ticket_id.to_string(),
    )?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// Records that a Dooray! task was created for the ticket (SPEC §5.8, §7.2): the ticket shows
/// "Dooray transfer completed". Refused while an issue-management transfer or another Dooray!
/// task is still open; an answered Dooray! transfer may be transferred again. An unassigned
/// ticket is assigned to the transferring agent and a new or solved one is worked again
/// (`open`), as for a transfer to issue management. `task` (the task number or ID) goes into
/// the event.
pub fn dooray_transferred(conn: &mut DbConn, t: &Ticket, actor: i64, task: &str) -> Result<()> {
    ensure_workable(t)?;
    match t.transfer_state() {
        TransferState::IssueInProgress => return Err(LifecycleError::AlreadyTransferred),
        s if s.dooray_open() => return Err(LifecycleError::NotAllowed),
        _ => {}
    }
    claim(conn, t)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set(tickets::transfer_state.eq(TransferState::DoorayTransferred.as_str()))
        .execute(conn)?;
    if t.assignee_id.is_none() {
        diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
            .set(tickets::assignee_id.eq(Some(actor)))
            .execute(conn)?;
    }
    if matches!(t.status(), Status::New | Status::Solved) {
        set_status(conn, t.id, Status::Open)?;
    }
    record_event(conn, t.id, "dooray_transferred", Some(actor), task)?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// A Dooray! webhook moved the ticket's task (SPEC §7.2): `to` is one of the Dooray!
/// sub-states. Applies only while the ticket is in a Dooray! sub-state (a later transfer to
/// issue management wins) and is neither completed nor in the spam box; returns whether the
/// sub-state changed. A webhook never holds a stale form, so the version is re-read here.
pub fn dooray_progress(conn: &mut DbConn, t: &Ticket, to: TransferState) -> Result<bool> {
    if !to.is_dooray() {
        return Err(LifecycleError::NotAllowed);
    }
    let current: Ticket = tickets::table
        .find(t.id)
        .select(Ticket::as_select())
        .first(conn)?;
    let from = current.transfer_state();
    if !from.is_dooray() || from == to || current.is_spam || current.status() == Status::Closed {
        return Ok(false);
    }
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::transfer_state.eq(to.as_str()),
            tickets::version.eq(current.version + 1),
            tickets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    record_event(conn, t.id, "dooray_state", None, to.as_str())?;
    super::events::updated(conn, &current)?;
    Ok(true)
}

/// A customer follow-up (help-center history, mail reply, API): adds the customer's entry;
/// a solved ticket reopens (to `open` with the same assignee, or `new` when it has none) and
/// an on-hold ticket goes back to `open`. Refused on a completed ticket. A follow-up on a
/// ticket in the spam box is recorded without changing anything else. Returns the entry key.
pub fn customer_followup(
    conn: &mut DbConn,
    t: &Ticket,
    body: &str,
    files: &[StoredFile],
    mail_message_id: Option<&str>,
) -> Result<i64> {
    if t.status() == Status::Closed {
        return Err(LifecycleError::Closed);
    }
    // A customer never holds a stale form: re-read the version inside the transaction.
    let version: i64 = tickets::table
        .filter(tickets::id.eq(t.id))
        .select(tickets::version)
        .first(conn)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::version.eq(version + 1),
            tickets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let entry_id = add_entry(conn, t.id, EntryKind::CustomerFollowup, None, body)?;
    if let Some(mid) = mail_message_id {
        diesel::update(ticket_entries::table.filter(ticket_entries::id.eq(entry_id)))
            .set(ticket_entries::mail_message_id.eq(Some(mid)))
            .execute(conn)?;
    }
    add_attachments(conn, t.id, entry_id, files)?;
    if !t.is_spam {
        let to = match t.status() {
            Status::Solved | Status::Reply if t.assignee_id.is_some() => Some(Status::Open),
            Status::Solved | Status::Reply => Some(Status::New),
            _ => None,
        };
        if let Some(to) = to {
            diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
                .set((
                    tickets::status.eq(to.as_str()),
                    tickets::internal_reason.eq(None::<String>),
                ))
                .execute(conn)?;
            record_event(conn, t.id, "reopened", None, to.as_str())?;
        }
    }
    record_event(conn, t.id, "customer_followup", None, "")?;
    super::events::updated(conn, t)?;
    Ok(entry_id)
}

/// An administrator completes a solved ticket (`closed`; final).
pub fn complete(conn: &mut DbConn, t: &Ticket, actor: i64) -> Result<()> {
    ensure_workable(t)?;
    if t.status() != Status::Solved {
        return Err(LifecycleError::NotAllowed);
    }
    claim(conn, t)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::status.eq(Status::Closed.as_str()),
            tickets::closed_at.eq(Some(now())),
        ))
        .execute(conn)?;
    record_event(conn, t.id, "completed", Some(actor), "")?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// Completes the service's solved tickets (not in the spam box) solved before `cutoff`, at
/// most `limit` of them; returns how many. Run periodically with the service's auto-complete
/// days (default 14).
pub fn complete_solved_before(
    conn: &mut DbConn,
    service_id: i64,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let due: Vec<i64> = tickets::table
        .filter(tickets::service_id.eq(service_id))
        .filter(tickets::status.eq(Status::Solved.as_str()))
        .filter(tickets::is_spam.eq(false))
        .filter(tickets::solved_at.le(cutoff))
        .order(tickets::solved_at.asc())
        .limit(limit)
        .select(tickets::id)
        .load(conn)?;
    let t_now = now();
    for id in &due {
        let before = tickets::table
            .find(id)
            .select(Ticket::as_select())
            .first(conn)?;
        diesel::update(tickets::table.filter(tickets::id.eq(id)))
            .set((
                tickets::status.eq(Status::Closed.as_str()),
                tickets::closed_at.eq(Some(t_now)),
                tickets::version.eq(tickets::version + 1),
                tickets::updated_at.eq(t_now),
            ))
            .execute(conn)?;
        record_event(conn, *id, "completed", None, "auto")?;
        super::events::updated(conn, &before)?;
    }
    Ok(due.len())
}

/// An administrator takes a ticket out of the spam box: it returns to the status it had.
pub fn restore_spam(conn: &mut DbConn, t: &Ticket, actor: i64) -> Result<()> {
    if !t.is_spam {
        return Err(LifecycleError::NotAllowed);
    }
    claim(conn, t)?;
    let back = t.spam_prev_status.unwrap_or(Status::Open);
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set((
            tickets::is_spam.eq(false),
            tickets::spam_prev_status.eq(None::<String>),
            tickets::internal_reason.eq(None::<String>),
            tickets::status.eq(back.as_str()),
            tickets::solved_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    record_event(conn, t.id, "spam_restored", Some(actor), back.as_str())?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// An administrator deletes a ticket from the spam box. Returns the stored paths of its
/// attachments, for the caller to remove from disk after the commit.
pub fn delete_spam(conn: &mut DbConn, t: &Ticket) -> Result<Vec<String>> {
    if !t.is_spam {
        return Err(LifecycleError::NotAllowed);
    }
    claim(conn, t)?;
    let paths: Vec<String> = ticket_attachments::table
        .filter(ticket_attachments::ticket_id.eq(t.id))
        .select(ticket_attachments::stored_path)
        .load(conn)?;
    diesel::delete(tickets::table.filter(tickets::id.eq(t.id))).execute(conn)?;
    Ok(paths)
}

/// Changes the priority (an event is recorded).
pub fn set_priority(conn: &mut DbConn, t: &Ticket, actor: i64, p: Priority) -> Result<()> {
    ensure_workable(t)?;
    if t.priority() == p {
        return Ok(());
    }
    claim(conn, t)?;
    diesel::update(tickets::table.filter(tickets::id.eq(t.id)))
        .set(tickets::priority.eq(p.as_str()))
        .execute(conn)?;
    record_event(conn, t.id, "priority", Some(actor), p.as_str())?;
    super::events::updated(conn, t)?;
    Ok(())
}

/// Sets or clears the agent's ☆ important flag; returns the new state.
pub fn set_star(conn: &mut DbConn, user_id: i64, ticket_id: i64, on: bool) -> QueryResult<bool> {
    if on {
        let exists: i64 = ticket_stars::table
            .filter(ticket_stars::user_id.eq(user_id))
            .filter(ticket_stars::ticket_id.eq(ticket_id))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(ticket_stars::table)
                .values((
                    ticket_stars::user_id.eq(user_id),
                    ticket_stars::ticket_id.eq(ticket_id),
                    ticket_stars::created_at.eq(now()),
                ))
                .execute(conn)?;
        }
    } else {
        diesel::delete(
            ticket_stars::table
                .filter(ticket_stars::user_id.eq(user_id))
                .filter(ticket_stars::ticket_id.eq(ticket_id)),
        )
        .execute(conn)?;
    }
    Ok(on)
}
