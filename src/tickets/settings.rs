//! Ticket settings of a service (SPEC §3.10, §5.5): the internal-resolution text written into
//! the history (one per help-center language), the number of days after which a resolved
//! ticket completes by itself (default 14), and whether an agent creating a ticket by hand may
//! choose its group and assignee. The page is `/{service_id}/console/settings/tickets`
//! (service administrators).
//!
//! [`run_auto_complete`] is the scheduled job (see [`crate::jobs`]) that completes solved
//! tickets once their service's auto-complete period has passed (through
//! `lifecycle::complete_solved_before`).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use diesel::prelude::*;

use crate::Db;
use crate::agents::form::Pairs;
use crate::db::schema::ticket_settings;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::fields::model::Texts;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::service_langs;
use crate::tickets::lifecycle;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Default auto-complete period in days ("two weeks after resolution", SPEC §5.5).
pub const DEFAULT_AUTO_COMPLETE_DAYS: i32 = 14;
/// Longest auto-complete period accepted.
pub const MAX_AUTO_COMPLETE_DAYS: i32 = 365;
/// Longest internal-resolution text.
pub const MAX_INTERNAL_TEXT: usize = 500;
/// When the auto-complete job first runs after the first start (the server is settled by then).
pub const AUTO_COMPLETE_FIRST_AFTER: Duration = Duration::from_secs(60);
/// How often the auto-complete job runs.
pub const AUTO_COMPLETE_EVERY: Duration = Duration::from_secs(600);
/// Tickets completed per transaction by the job.
const AUTO_COMPLETE_BATCH: i64 = 200;

/// A service's ticket settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSettings {
    /// Days after resolution before a solved ticket completes automatically.
    pub auto_complete_days: i32,
    /// Whether an agent creating a ticket may choose its group and assignee.
    pub creator_chooses_assignee: bool,
    /// Internal-resolution texts by language.
    pub internal_texts: Texts,
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            auto_complete_days: DEFAULT_AUTO_COMPLETE_DAYS,
            creator_chooses_assignee: true,
            internal_texts: Texts::default(),
        }
    }
}

impl TicketSettings {
    /// The service's settings (the defaults when never saved).
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<TicketSettings> {
        Ok(ticket_settings::table
            .find(service_id)
            .select((
                ticket_settings::auto_complete_days,
                ticket_settings::creator_chooses_assignee,
                ticket_settings::internal_texts,
            ))
            .first::<(i32, bool, String)>(conn)
            .optional()?
            .map(|(days, choose, texts)| TicketSettings {
                auto_complete_days: days,
                creator_chooses_assignee: choose,
                internal_texts: Texts::parse(&texts),
            })
            .unwrap_or_default())
    }

    /// The internal-resolution text in `lang` (the service's default language's, else the
    /// built-in sentence).
    pub fn internal_text(&self, service: &Service, lang: Lang) -> String {
        let fallback = service_langs(service)[0];
        let t = self.internal_texts.pick(lang, fallback);
        if t.trim().is_empty() {
            i18n::t(lang, "ticket.settings.default_internal_text")
        } else {
            t.to_string()
        }
    }

    /// Saves the settings inside the caller's transaction.
    pub fn save(&self, conn: &mut DbConn, service_id: i64) -> QueryResult<()> {
        let values = (
            ticket_settings::auto_complete_days.eq(self.auto_complete_days),
            ticket_settings::creator_chooses_assignee.eq(self.creator_chooses_assignee),
            ticket_settings::internal_texts.eq(self.internal_texts.to_json()),
            ticket_settings::updated_at.eq(now()),
        );
        let n = diesel::update(ticket_settings::table.find(service_id))
            .set(values.clone())
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(ticket_settings::table)
                .values((ticket_settings::service_id.eq(service_id), values))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Reads and checks the submitted settings.
    pub fn read(service: &Service, form: &Pairs, errors: &mut FormErrors) -> TicketSettings {
        let days_raw = form.get("auto_complete_days").trim().to_string();
        let days = match days_raw.parse::<i32>() {
            Ok(d) if (1..=MAX_AUTO_COMPLETE_DAYS).contains(&d) => d,
            _ => {
                errors.add_with(
                    "auto_complete_days",
                    "ticket.settings.days_range",
                    &[("max", &MAX_AUTO_COMPLETE_DAYS.to_string())],
                );
                DEFAULT_AUTO_COMPLETE_DAYS
            }
        };
        let mut texts = Texts::default();
        for l in service_langs(service) {
            let name = format!("internal_text_{}", l.code());
            let text = form.get(&name).replace("\r\n", "\n").trim().to_string();
            if text.chars().count() > MAX_INTERNAL_TEXT {
                errors.add_with(
                    &name,
                    "validation.too_long",
                    &[("max", &MAX_INTERNAL_TEXT.to_string())],
                );
            }
            texts.set(l, &text);
        }
        TicketSettings {
            auto_complete_days: days,
            creator_chooses_assignee: form.checked("creator_chooses_assignee"),
            internal_texts: texts,
        }
    }
}

/// Completes, for every service, the solved tickets whose auto-complete period has passed
/// (blocking: call it on a blocking thread). Returns how many were completed.
pub fn run_auto_complete(db: &Db) -> Result<usize, AppError> {
    let mut conn = db.get()?;
    let services = Service::all(&mut conn)?;
    let mut due = Vec::with_capacity(services.len());
    for s in services {
        let days = TicketSettings::load(&mut conn, s.id)?.auto_complete_days;
        due.push((s.id, now() - TimeDelta::days(i64::from(days.max(1)))));
    }
    drop(conn);
    let mut total = 0;
    for (sid, cutoff) in due {
        // Bounded rounds so one service with a huge backlog cannot starve the others.
        for _ in 0..50 {
            let n = db.write_blocking(move |c| {
                Ok(lifecycle::complete_solved_before(
                    c,
                    sid,
                    cutoff,
                    AUTO_COMPLETE_BATCH,
                )?)
            })?;
            total += n;
            if i64::try_from(n).unwrap_or(i64::MAX) < AUTO_COMPLETE_BATCH {
                break;
            }
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// Page
// ---------------------------------------------------------------------------------------------

/// One language's internal-resolution text in the form.
#[derive(Debug, Clone)]
pub struct TextSlot {
    /// Input name.
    pub name: String,
    /// Language name.
    pub lang_name: String,
    /// Value.
    pub value: String,
    /// The built-in text used when empty.
    pub placeholder: String,
}

/// The ticket settings page.
#[derive(Template)]
#[template(path = "settings/ticket_settings.html")]
pub struct SettingsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Form action.
    pub action: String,
    /// Auto-complete days as typed.
    pub days: String,
    /// Creator may choose group and assignee.
    pub creator_chooses_assignee: bool,
    /// Internal-resolution texts.
    pub texts: Vec<TextSlot>,
    /// Errors.
    pub errors: FormErrors,
}

fn settings_page(
    a: &ServiceAdmin,
    s: &TicketSettings,
    days: String,
    errors: FormErrors,
) -> SettingsPage {
    SettingsPage {
        ctx: PageCtx::console(a, "ticket.settings.title"),
        action: format!("/{}/console/settings/tickets", a.service.code),
        days,
        creator_chooses_assignee: s.creator_chooses_assignee,
        texts: service_langs(&a.service)
            .into_iter()
            .map(|l| TextSlot {
                name: format!("internal_text_{}", l.code()),
                lang_name: l.native_name().to_string(),
                value: s.internal_texts.get(l).unwrap_or("").to_string(),
                placeholder: i18n::t(l, "ticket.settings.default_internal_text"),
            })
            .collect(),
        errors,
    }
}

/// `GET /{service_id}/console/settings/tickets`
pub async fn edit_settings(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let s = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(TicketSettings::load(c, sid)?))
        .await?;
    let lang = a.viewer().lang;
    let page = settings_page(
        &a,
        &s,
        s.auto_complete_days.to_string(),
        FormErrors::new(lang),
    );
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/tickets`
pub async fn save_settings(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let s = TicketSettings::read(&a.service, &form, &mut errors);
    if !errors.is_empty() {
        let days = form.get("auto_complete_days").chars().take(10).collect();
        let page = settings_page(&a, &s, days, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(s.save(c, sid)?))
        .await?;
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "ticket.settings.saved")));
    Ok(w::redirect(
        &req,
        &format!("/{}/console/settings/tickets", a.service.code),
    ))
}
