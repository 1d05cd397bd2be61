//! Inquiry-surge alerts (SPEC §3.9): when at least N tickets arrived within the last M minutes,
//! on a weekday that is switched on, and the cooldown since the last alert has passed, one
//! alert is raised and sent by the chosen media — a browser notification in the console (a
//! server-sent event stream), e-mail through the mail outbox, SMS queued for the SMS provider,
//! and a Dooray! incoming webhook through the delivery queue — each with its own template.
//!
//! [`check`] runs inside the transaction that creates a ticket and takes the service lock, so a
//! burst of simultaneous tickets raises one alert, not one per ticket.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Datelike, NaiveDateTime, TimeDelta, TimeZone};
use diesel::prelude::*;

use super::deliveries::{self, DeliveryKind};
use crate::agents::form::Pairs;
use crate::common::time::local_display;
use crate::db::dispatch::lock_service;
use crate::db::schema::{
    service_members, services, sms_messages, surge_alerts, surge_recipients, surge_settings,
    tickets, users,
};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::notify::outbox::{self, NewMail};
use crate::notify::smtp::OutgoingMail;
use crate::tenancy::service::service_tz;
use crate::tickets::events::TicketEvent;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin, ServiceMember};

/// A service's surge-alert configuration.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = surge_settings)]
#[diesel(treat_none_as_null = true)]
pub struct SurgeSettings {
    /// Service.
    pub service_id: i64,
    /// Switched on.
    pub enabled: bool,
    /// N: tickets that make a surge.
    pub threshold: i32,
    /// M: the window in minutes.
    pub window_minutes: i32,
    /// Minutes after an alert before the next one.
    pub cooldown_minutes: i32,
    /// Seven `0`/`1` flags, Monday first.
    pub weekdays: String,
    /// Agents to alert (comma-separated user ids).
    pub agent_ids: String,
    /// External recipients to alert (comma-separated ids).
    pub recipient_ids: String,
    /// Browser notification.
    pub by_browser: bool,
    /// E-mail.
    pub by_email: bool,
    /// SMS.
    pub by_sms: bool,
    /// Dooray! webhook.
    pub by_dooray: bool,
    /// Dooray! incoming-webhook URL.
    pub dooray_url: String,
    /// Browser notification text.
    pub browser_text: String,
    /// Mail subject.
    pub email_subject: String,
    /// Mail body.
    pub email_body: String,
    /// SMS text.
    pub sms_text: String,
    /// Dooray! message.
    pub dooray_text: String,
    /// When the last alert was raised.
    pub last_alert_at: Option<NaiveDateTime>,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

fn ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

impl SurgeSettings {
    /// The defaults (off, 20 tickets in 5 minutes, one hour cooldown, every day).
    pub fn defaults(service_id: i64, lang: Lang) -> SurgeSettings {
        SurgeSettings {
            service_id,
            enabled: false,
            threshold: 20,
            window_minutes: 5,
            cooldown_minutes: 60,
            weekdays: "1111111".into(),
            agent_ids: String::new(),
            recipient_ids: String::new(),
            by_browser: true,
            by_email: true,
            by_sms: false,
            by_dooray: false,
            dooray_url: String::new(),
            browser_text: i18n::t(lang, "surge.default_text"),
            email_subject: i18n::t(lang, "surge.default_subject"),
            email_body: i18n::t(lang, "surge.default_text"),
            sms_text: i18n::t(lang, "surge.default_text"),
            dooray_text: i18n::t(lang, "surge.default_text"),
            last_alert_at: None,
            updated_at: now(),
        }
    }

    /// The stored configuration, if any.
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<Option<SurgeSettings>> {
        surge_settings::table
            .find(service_id)
            .select(SurgeSettings::as_select())
            .first(conn)
            .optional()
    }

    /// Inserts or updates the row.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        let n = diesel::update(surge_settings::table.find(self.service_id))
            .set(self)
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(surge_settings::table)
                .values(self)
                .execute(conn)?;
        }
        Ok(())
    }

    /// The agents alerted.
    pub fn agents(&self) -> Vec<i64> {
        ids(&self.agent_ids)
    }

    /// The external recipients alerted.
    pub fn recipients(&self) -> Vec<i64> {
        ids(&self.recipient_ids)
    }

    /// Whether alerts are on for a weekday (0 = Monday).
    pub fn on_weekday(&self, day: u32) -> bool {
        self.weekdays.chars().nth(day as usize) == Some('1')
    }
}

/// Fills a template's codes: `#{count}`, `#{minutes}`, `#{serviceName}`, `#{time}`.
pub fn render(template: &str, count: i64, minutes: i32, service: &str, time: &str) -> String {
    template
        .replace("#{count}", &count.to_string())
        .replace("#{minutes}", &minutes.to_string())
        .replace("#{serviceName}", service)
        .replace("#{time}", time)
}

/// The surge alert's subscription to ticket events (registered at start-up): a new ticket is
/// checked with [`check`].
pub fn on_ticket_event(conn: &mut DbConn, event: &TicketEvent<'_>) -> QueryResult<()> {
    if let TicketEvent::Created { ticket } = event {
        check(conn, ticket.service_id, ticket.id)?;
    }
    Ok(())
}

/// Checks for a surge after a ticket was created (inside its transaction); raises at most one
/// alert per cooldown. Returns the alert's key when one was raised.
pub fn check(conn: &mut DbConn, service_id: i64, ticket_id: i64) -> QueryResult<Option<i64>> {
    let Some(s) = SurgeSettings::load(conn, service_id)? else {
        return Ok(None);
    };
    if !s.enabled || s.threshold < 1 {
        return Ok(None);
    }
    lock_service(conn, service_id)?;
    // Re-read after the lock: a concurrent ticket may just have raised the alert.
    let Some(s) = SurgeSettings::load(conn, service_id)? else {
        return Ok(None);
    };
    let at = now();
    if let Some(last) = s.last_alert_at
        && at - last < TimeDelta::minutes(i64::from(s.cooldown_minutes))
    {
        return Ok(None);
    }
    let (service_name, tz_name): (String, String) = services::table
        .find(service_id)
        .select((services::name, services::timezone))
        .first(conn)?;
    let tz: chrono_tz::Tz = tz_name.parse().unwrap_or(chrono_tz::Tz::UTC);
    let local = tz.from_utc_datetime(&at);
    if !s.on_weekday(local.weekday().num_days_from_monday()) {
        return Ok(None);
    }
    let since = at - TimeDelta::minutes(i64::from(s.window_minutes));
    let count: i64 = tickets::table
        .filter(tickets::service_id.eq(service_id))
        .filter(tickets::created_at.ge(since))
        .select(tickets::id)
        .limit(i64::from(s.threshold))
        .load::<i64>(conn)?
        .len() as i64;
    if count < i64::from(s.threshold) {
        return Ok(None);
    }
    let time = local.format("%Y-%m-%d %H:%M").to_string();
    let fill = |t: &str| render(t, count, s.window_minutes, &service_name, &time);
    let message = fill(&s.browser_text);
    let alert_id: i64 = diesel::insert_into(surge_alerts::table)
        .values((
            surge_alerts::service_id.eq(service_id),
            surge_alerts::ticket_count.eq(i32::try_from(count).unwrap_or(i32::MAX)),
            surge_alerts::window_minutes.eq(s.window_minutes),
            surge_alerts::message.eq(&message),
            surge_alerts::created_at.eq(at),
        ))
        .returning(surge_alerts::id)
        .get_result(conn)?;
    diesel::update(surge_settings::table.find(service_id))
        .set(surge_settings::last_alert_at.eq(Some(at)))
        .execute(conn)?;
    let agents: Vec<(String, String, String)> = users::table
        .filter(users::id.eq_any(s.agents()))
        .filter(users::active.eq(true))
        .select((users::name, users::email, users::phone))
        .load(conn)?;
    let external: Vec<(String, String, String)> = surge_recipients::table
        .filter(surge_recipients::service_id.eq(service_id))
        .filter(surge_recipients::id.eq_any(s.recipients()))
        .select((
            surge_recipients::name,
            surge_recipients::email,
            surge_recipients::phone,
        ))
        .load(conn)?;
    let everyone: Vec<&(String, String, String)> = agents.iter().chain(external.iter()).collect();
    if s.by_email {
        let subject = fill(&s.email_subject);
        let text = fill(&s.email_body);
        let html = crate::common::text::text_to_html(&text);
        for (name, email, _) in everyone.iter().filter(|r| !r.1.is_empty()) {
            outbox::enqueue(
                conn,
                &NewMail {
                    service_id: Some(service_id),
                    ticket_id: None,
                    purpose: "surge_alert".into(),
                    mail: OutgoingMail {
                        to: email.clone(),
                        to_name: name.clone(),
                        subject: subject.clone(),
                        text: text.clone(),
                        html: html.clone(),
                        ..OutgoingMail::default()
                    },
                },
            )?;
        }
    }
    if s.by_sms {
        let body = fill(&s.sms_text);
        for (_, _, phone) in everyone.iter().filter(|r| !r.2.is_empty()) {
            diesel::insert_into(sms_messages::table)
                .values((
                    sms_messages::service_id.eq(Some(service_id)),
                    sms_messages::purpose.eq("surge_alert"),
                    sms_messages::to_phone.eq(phone),
                    sms_messages::body.eq(&body),
                    sms_messages::created_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    if s.by_dooray && !s.dooray_url.is_empty() {
        let body = serde_json::json!({ "botName": service_name, "text": fill(&s.dooray_text) })
            .to_string();
        deliveries::queue(
            conn,
            service_id,
            None,
            ticket_id,
            DeliveryKind::Chat,
            &s.dooray_url,
            &body,
        )?;
    }
    Ok(Some(alert_id))
}

/// The settings page.
#[derive(Template)]
#[template(path = "automation/surge.html")]
pub struct SurgePage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/surge-alert`
    pub base: String,
    /// The configuration shown.
    pub s: SurgeSettings,
    /// Agents of the service: id, name, chosen.
    pub agents: Vec<(i64, String, bool)>,
    /// External recipients: id, name, e-mail, phone, chosen.
    pub recipients: Vec<(i64, String, String, String, bool)>,
    /// Weekday names with their flags.
    pub days: Vec<(usize, String, bool)>,
    /// Recent alerts: time, count, message.
    pub alerts: Vec<(String, i32, String)>,
    /// Messages.
    pub errors: FormErrors,
    /// New-recipient form values: name, e-mail, phone.
    pub new_recipient: (String, String, String),
}

async fn render_page(
    a: &ServiceAdmin,
    s: Option<SurgeSettings>,
    errors: FormErrors,
    new_recipient: (String, String, String),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let tz = service_tz(&a.service);
    let (stored, agents, recipients, alerts) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let stored = SurgeSettings::load(c, sid)?;
            let agents: Vec<(i64, String)> = service_members::table
                .inner_join(users::table.on(users::id.eq(service_members::user_id)))
                .filter(service_members::service_id.eq(sid))
                .filter(users::active.eq(true))
                .order(users::name.asc())
                .limit(500)
                .select((users::id, users::name))
                .load(c)?;
            let recipients: Vec<(i64, String, String, String)> = surge_recipients::table
                .filter(surge_recipients::service_id.eq(sid))
                .order(surge_recipients::id.asc())
                .select((
                    surge_recipients::id,
                    surge_recipients::name,
                    surge_recipients::email,
                    surge_recipients::phone,
                ))
                .load(c)?;
            let alerts: Vec<(NaiveDateTime, i32, String)> = surge_alerts::table
                .filter(surge_alerts::service_id.eq(sid))
                .order(surge_alerts::id.desc())
                .limit(20)
                .select((
                    surge_alerts::created_at,
                    surge_alerts::ticket_count,
                    surge_alerts::message,
                ))
                .load(c)?;
            Ok((stored, agents, recipients, alerts))
        })
        .await?;
    let s = s
        .or(stored)
        .unwrap_or_else(|| SurgeSettings::defaults(sid, lang));
    let chosen_agents = s.agents();
    let chosen_recipients = s.recipients();
    let days = (0..7)
        .map(|d| {
            (
                d,
                i18n::t(lang, &format!("surge.day.{d}")),
                s.on_weekday(d as u32),
            )
        })
        .collect();
    let page = SurgePage {
        ctx: PageCtx::console(a, "surge.title"),
        base: format!("/{}/console/settings/surge-alert", a.service.code),
        agents: agents
            .into_iter()
            .map(|(id, n)| (id, n, chosen_agents.contains(&id)))
            .collect(),
        recipients: recipients
            .into_iter()
            .map(|(id, n, e, p)| (id, n, e, p, chosen_recipients.contains(&id)))
            .collect(),
        days,
        alerts: alerts
            .into_iter()
            .map(|(at, n, m)| (local_display(tz, at), n, m))
            .collect(),
        s,
        errors,
        new_recipient,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/surge-alert`
pub async fn page(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    render_page(
        &a,
        None,
        FormErrors::new(lang),
        Default::default(),
        StatusCode::OK,
    )
    .await
}

fn number(form: &Pairs, name: &str, min: i32, max: i32, errors: &mut FormErrors) -> i32 {
    match form.get(name).trim().parse::<i32>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.add_with(
                name,
                "surge.error.range",
                &[("min", &min.to_string()), ("max", &max.to_string())],
            );
            min
        }
    }
}

fn text(form: &Pairs, name: &str, max: usize, errors: &mut FormErrors) -> String {
    let t = form.get(name).trim().to_string();
    if t.chars().count() > max {
        errors.add_with(name, "validation.too_long", &[("max", &max.to_string())]);
    }
    t
}

/// `POST /{service_id}/console/settings/surge-alert`
pub async fn save(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let weekdays: String = (0..7)
        .map(|d| {
            if form.checked(&format!("day{d}")) {
                '1'
            } else {
                '0'
            }
        })
        .collect();
    let join = |v: Vec<i64>| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let s = SurgeSettings {
        service_id: sid,
        enabled: form.checked("enabled"),
        threshold: number(&form, "threshold", 1, 10_000, &mut errors),
        window_minutes: number(&form, "window_minutes", 1, 1440, &mut errors),
        cooldown_minutes: number(&form, "cooldown_minutes", 0, 10_080, &mut errors),
        weekdays,
        agent_ids: join(form.ids("agent")),
        recipient_ids: join(form.ids("recipient")),
        by_browser: form.checked("by_browser"),
        by_email: form.checked("by_email"),
        by_sms: form.checked("by_sms"),
        by_dooray: form.checked("by_dooray"),
        dooray_url: text(&form, "dooray_url", 500, &mut errors),
        browser_text: text(&form, "browser_text", 500, &mut errors),
        email_subject: text(&form, "email_subject", 200, &mut errors),
        email_body: text(&form, "email_body", 5000, &mut errors),
        sms_text: text(&form, "sms_text", 90, &mut errors),
        dooray_text: text(&form, "dooray_text", 2000, &mut errors),
        last_alert_at: None,
        updated_at: now(),
    };
    if s.by_dooray && !super::pages::valid_url(&s.dooray_url) {
        errors.add("dooray_url", "trigger.error.action_callback");
    }
    if s.enabled && !s.by_browser && !s.by_email && !s.by_sms && !s.by_dooray {
        errors.add("media", "surge.error.no_media");
    }
    for (on, field) in [
        (s.by_browser, "browser_text"),
        (s.by_email, "email_subject"),
        (s.by_email, "email_body"),
        (s.by_sms, "sms_text"),
        (s.by_dooray, "dooray_text"),
    ] {
        if on && form.get(field).trim().is_empty() && !errors.has(field) {
            errors.add(field, "validation.required");
        }
    }
    if !errors.is_empty() {
        return render_page(
            &a,
            Some(s),
            errors,
            Default::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    a.viewer()
        .state
        .db
        .write(move |c| {
            let last = SurgeSettings::load(c, sid)?.and_then(|o| o.last_alert_at);
            let mut s = s;
            s.last_alert_at = last;
            // Only agents of this service and this service's recipients are kept.
            let members: Vec<i64> = service_members::table
                .filter(service_members::service_id.eq(sid))
                .select(service_members::user_id)
                .load(c)?;
            let own: Vec<i64> = surge_recipients::table
                .filter(surge_recipients::service_id.eq(sid))
                .select(surge_recipients::id)
                .load(c)?;
            let keep = |v: Vec<i64>, allowed: &[i64]| {
                v.into_iter()
                    .filter(|x| allowed.contains(x))
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            s.agent_ids = keep(s.agents(), &members);
            s.recipient_ids = keep(s.recipients(), &own);
            s.save(c)?;
            Ok(())
        })
        .await?;
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "surge.saved")));
    Ok(w::redirect(
        &req,
        &format!("/{}/console/settings/surge-alert", a.service.code),
    ))
}

/// `POST /{service_id}/console/settings/surge-alert/recipients` — adds an external recipient.
pub async fn add_recipient(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let name = text(&form, "r_name", 50, &mut errors);
    let email = text(&form, "r_email", 254, &mut errors).to_lowercase();
    let phone = text(&form, "r_phone", 20, &mut errors);
    if name.is_empty() {
        errors.add("r_name", "validation.required");
    }
    if email.is_empty() && phone.is_empty() {
        errors.add("r_email", "surge.error.contact");
    }
    if !email.is_empty() && !crate::tenancy::user::is_valid_email(&email) {
        errors.add("r_email", "validation.email_format");
    }
    if !phone.is_empty()
        && !phone
            .chars()
            .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
    {
        errors.add("r_phone", "validation.phone_format");
    }
    if !errors.is_empty() {
        return render_page(
            &a,
            None,
            errors,
            (name, email, phone),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| {
            diesel::insert_into(surge_recipients::table)
                .values((
                    surge_recipients::service_id.eq(sid),
                    surge_recipients::name.eq(&name),
                    surge_recipients::email.eq(&email),
                    surge_recipients::phone.eq(&phone),
                    surge_recipients::created_at.eq(now()),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(w::redirect(
        &req,
        &format!("/{}/console/settings/surge-alert", a.service.code),
    ))
}

/// `POST /{service_id}/console/settings/surge-alert/recipients/{id}/delete`
pub async fn delete_recipient(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, id) = path.into_inner();
    let sid = a.service.id;
    let n = a
        .viewer()
        .state
        .db
        .write(move |c| {
            Ok(diesel::delete(
                surge_recipients::table
                    .filter(surge_recipients::id.eq(id))
                    .filter(surge_recipients::service_id.eq(sid)),
            )
            .execute(c)?)
        })
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(w::redirect(
        &req,
        &format!("/{}/console/settings/surge-alert", a.service.code),
    ))
}

/// `GET /{service_id}/console/alerts/stream` — server-sent events: each surge alert raised
/// after the connection (or after `Last-Event-ID`) for agents chosen to receive browser
/// notifications. Works across processes: it reads the alerts table every few seconds.
pub async fn stream(req: HttpRequest, m: ServiceMember) -> Result<HttpResponse, AppError> {
    let sid = m.service.id;
    let me = m.signed.user.id;
    let state = m.viewer().state.clone();
    let from_header: Option<i64> = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let start = match from_header {
        Some(id) => id,
        None => {
            state
                .db
                .read(move |c| {
                    Ok(surge_alerts::table
                        .filter(surge_alerts::service_id.eq(sid))
                        .select(diesel::dsl::max(surge_alerts::id))
                        .first::<Option<i64>>(c)?
                        .unwrap_or(0))
                })
                .await?
        }
    };
    let body = futures_util::stream::unfold(
        (state, start, true),
        move |(state, last, first)| async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            let found = state
                .db
                .read(move |c| {
                    let s = SurgeSettings::load(c, sid)?;
                    let mine = s
                        .as_ref()
                        .is_some_and(|s| s.by_browser && s.agents().contains(&me));
                    let rows: Vec<(i64, String)> = surge_alerts::table
                        .filter(surge_alerts::service_id.eq(sid))
                        .filter(surge_alerts::id.gt(last))
                        .order(surge_alerts::id.asc())
                        .limit(20)
                        .select((surge_alerts::id, surge_alerts::message))
                        .load(c)?;
                    Ok((mine, rows))
                })
                .await;
            let (chunk, next) = match found {
                Ok((mine, rows)) => {
                    let next = rows.last().map_or(last, |r| r.0);
                    let mut out = String::new();
                    if mine {
                        for (id, msg) in &rows {
                            let data = serde_json::json!({ "message": msg }).to_string();
                            out.push_str(&format!("id: {id}\nevent: surge\ndata: {data}\n\n"));
                        }
                    }
                    if out.is_empty() {
                        out.push_str(": keep-alive\n\n");
                    }
                    (out, next)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "alert stream read failed");
                    (": retry\n\n".to_string(), last)
                }
            };
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
                (state, next, false),
            ))
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
