//! Mail layouts and sender info (SPEC §3.7, Ticket → E-mail settings).
//!
//! A layout wraps an agent's answer in the mail the customer receives. There are three kinds
//! ([`LayoutKind`]: on resolve, on hold, for a manually created ticket), each per help-center
//! language, with a subject line, an HTML part and a plain-text part. Every layout must contain
//! `#{content}` (the answer); saving one without it is refused. A kind and language without a
//! saved layout uses the built-in default in that language ([`default_layout`]), so mail works
//! before anyone configures anything.
//!
//! The sender info is the display name (0–45 characters) and from-address every customer mail
//! of the service is sent with; empty values fall back to the SMTP relay's.
//!
//! Pages: `/{service_id}/console/settings/mail-layouts` (overview and sender info) and
//! `/{service_id}/console/settings/mail-layouts/{kind}/{lang}` (edit or reset one layout), for
//! service administrators.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::common::text::{html_to_text, sanitize_html};
use crate::db::schema::{mail_layouts, mail_sender_info};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::service_langs;
use crate::tenancy::user::is_valid_email;
use crate::tickets::substitution::{self, CONTENT, CodeRow};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Longest subject template.
pub const MAX_SUBJECT: usize = 200;
/// Longest HTML or text part (characters).
pub const MAX_PART: usize = 100_000;
/// Longest sender name (SPEC §3.7).
pub const MAX_SENDER_NAME: usize = 45;
/// Longest sender address.
pub const MAX_SENDER_ADDRESS: usize = 254;

text_enum! {
    /// Which automatic mail a layout is for.
    LayoutKind label "maillayout.kind." {
        /// The answer that resolves the ticket.
        Resolve => "resolve",
        /// An interim answer (the ticket goes on hold).
        Hold => "hold",
        /// The mail for a ticket an agent created manually.
        Created => "created",
    }
}

impl From<crate::tickets::lifecycle::CustomerMail> for LayoutKind {
    fn from(m: crate::tickets::lifecycle::CustomerMail) -> Self {
        match m {
            crate::tickets::lifecycle::CustomerMail::Resolve => LayoutKind::Resolve,
            crate::tickets::lifecycle::CustomerMail::Hold => LayoutKind::Hold,
        }
    }
}

/// A layout's three parts (templates with substitution codes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailLayout {
    /// Subject line (the ticket marker ` [#T…]` is appended when sending).
    pub subject: String,
    /// HTML part (sanitised).
    pub html_body: String,
    /// Plain-text part; empty means "derived from the HTML part".
    pub text_body: String,
}

/// The built-in layout of a kind in a language.
pub fn default_layout(kind: LayoutKind, lang: Lang) -> MailLayout {
    let intro = i18n::t(lang, &format!("maillayout.default.{}", kind.as_str()));
    let outro = i18n::t(lang, "maillayout.default_outro");
    MailLayout {
        subject: i18n::t(lang, "maillayout.default_subject"),
        html_body: format!("<p>{intro}</p><p>#{{content}}</p><p>{outro}</p>"),
        text_body: format!("{intro}\n\n#{{content}}\n\n{outro}"),
    }
}

/// The saved layout of a kind and language, if any.
pub fn load(
    conn: &mut DbConn,
    service_id: i64,
    kind: LayoutKind,
    lang: Lang,
) -> QueryResult<Option<MailLayout>> {
    Ok(mail_layouts::table
        .filter(mail_layouts::service_id.eq(service_id))
        .filter(mail_layouts::kind.eq(kind.as_str()))
        .filter(mail_layouts::lang.eq(lang.code()))
        .select((
            mail_layouts::subject,
            mail_layouts::html_body,
            mail_layouts::text_body,
        ))
        .first::<(String, String, String)>(conn)
        .optional()?
        .map(|(subject, html_body, text_body)| MailLayout {
            subject,
            html_body,
            text_body,
        }))
}

/// The language a customer mail is written in: the ticket's language when the service offers
/// it, otherwise the service's default help-center language.
pub fn mail_lang(service: &Service, ticket_lang: &str) -> Lang {
    let langs = service_langs(service);
    Lang::parse(ticket_lang)
        .filter(|l| langs.contains(l))
        .unwrap_or(langs[0])
}

/// The layout used for a mail: the saved one, or the default; the text part is derived from
/// the HTML part when it was left empty.
pub fn effective(
    conn: &mut DbConn,
    service_id: i64,
    kind: LayoutKind,
    lang: Lang,
) -> QueryResult<MailLayout> {
    let mut layout =
        load(conn, service_id, kind, lang)?.unwrap_or_else(|| default_layout(kind, lang));
    if layout.text_body.trim().is_empty() {
        layout.text_body = html_to_text(&layout.html_body).trim().to_string();
    }
    Ok(layout)
}

/// What is wrong with the HTML part of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlProblem {
    /// Longer than [`MAX_PART`] characters.
    TooLong,
    /// No text at all.
    Empty,
    /// `#{content}` is missing.
    ContentMissing,
}

impl HtmlProblem {
    /// The message key (`{max}` is [`MAX_PART`] for [`HtmlProblem::TooLong`]).
    pub fn key(self) -> &'static str {
        match self {
            HtmlProblem::TooLong => "validation.too_long",
            HtmlProblem::Empty => "validation.required",
            HtmlProblem::ContentMissing => "maillayout.error.content_missing",
        }
    }
}

/// Sanitises and checks the HTML part of a layout: at most [`MAX_PART`] characters before and
/// after sanitising, some text, and `#{content}`. Returns the sanitised HTML and the problem.
pub fn check_html_part(raw: &str) -> (String, Option<HtmlProblem>) {
    let raw = raw.replace("\r\n", "\n");
    let html = sanitize_html(&raw);
    let problem = if raw.chars().count() > MAX_PART || html.chars().count() > MAX_PART {
        Some(HtmlProblem::TooLong)
    } else if html_to_text(&html).trim().is_empty() {
        Some(HtmlProblem::Empty)
    } else if !substitution::contains_code(&html, CONTENT) {
        Some(HtmlProblem::ContentMissing)
    } else {
        None
    };
    (html, problem)
}

/// Reads and checks a submitted layout: subject 1–200 characters; the HTML part sanitised,
/// required and containing `#{content}` ([`check_html_part`]); the text part optional but
/// containing `#{content}` when given; both parts bounded.
pub fn read_layout(form: &Pairs, errors: &mut FormErrors) -> MailLayout {
    let subject = form.get("subject").trim().to_string();
    let (html_body, html_problem) = check_html_part(form.get("html_body"));
    let text_body = form
        .get("text_body")
        .replace("\r\n", "\n")
        .trim()
        .to_string();
    if subject.is_empty() {
        errors.add("subject", "validation.required");
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.add_with(
            "subject",
            "validation.too_long",
            &[("max", &MAX_SUBJECT.to_string())],
        );
    }
    if let Some(p) = html_problem {
        errors.add_with("html_body", p.key(), &[("max", &MAX_PART.to_string())]);
    }
    if text_body.chars().count() > MAX_PART {
        errors.add_with(
            "text_body",
            "validation.too_long",
            &[("max", &MAX_PART.to_string())],
        );
    } else if !text_body.is_empty() && !substitution::contains_code(&text_body, CONTENT) {
        errors.add("text_body", "maillayout.error.content_missing");
    }
    MailLayout {
        subject,
        html_body,
        text_body,
    }
}

/// Saves a layout (insert or replace) inside the caller's transaction.
pub fn save(
    conn: &mut DbConn,
    service_id: i64,
    kind: LayoutKind,
    lang: Lang,
    layout: &MailLayout,
) -> QueryResult<()> {
    let n = diesel::update(
        mail_layouts::table
            .filter(mail_layouts::service_id.eq(service_id))
            .filter(mail_layouts::kind.eq(kind.as_str()))
            .filter(mail_layouts::lang.eq(lang.code())),
    )
    .set((
        mail_layouts::subject.eq(&layout.subject),
        mail_layouts::html_body.eq(&layout.html_body),
        mail_layouts::text_body.eq(&layout.text_body),
        mail_layouts::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        diesel::insert_into(mail_layouts::table)
            .values((
                mail_layouts::service_id.eq(service_id),
                mail_layouts::kind.eq(kind.as_str()),
                mail_layouts::lang.eq(lang.code()),
                mail_layouts::subject.eq(&layout.subject),
                mail_layouts::html_body.eq(&layout.html_body),
                mail_layouts::text_body.eq(&layout.text_body),
                mail_layouts::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a saved layout (the default applies again); returns whether one existed.
pub fn reset(
    conn: &mut DbConn,
    service_id: i64,
    kind: LayoutKind,
    lang: Lang,
) -> QueryResult<bool> {
    let n = diesel::delete(
        mail_layouts::table
            .filter(mail_layouts::service_id.eq(service_id))
            .filter(mail_layouts::kind.eq(kind.as_str()))
            .filter(mail_layouts::lang.eq(lang.code())),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// What is wrong with submitted sender info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderProblem {
    /// The name is too long.
    NameTooLong,
    /// The name has line breaks, angle brackets or quotes.
    NameChars,
    /// The address is not one, or too long.
    Address,
}

/// The name and address a service's customer mails are sent from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// Display name (0–45 characters; empty: the relay's).
    pub name: String,
    /// From-address (empty: the relay's).
    pub address: String,
}

impl SenderInfo {
    /// The service's sender info (empty when never saved).
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<SenderInfo> {
        Ok(mail_sender_info::table
            .find(service_id)
            .select((
                mail_sender_info::sender_name,
                mail_sender_info::sender_address,
            ))
            .first::<(String, String)>(conn)
            .optional()?
            .map(|(name, address)| SenderInfo { name, address })
            .unwrap_or_default())
    }

    /// Every service's sender address, lower-cased (mail from them is our own: never a ticket).
    pub fn all_addresses(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        let all: Vec<String> = mail_sender_info::table
            .filter(mail_sender_info::sender_address.ne(""))
            .select(mail_sender_info::sender_address)
            .load(conn)?;
        Ok(all.into_iter().map(|a| a.trim().to_lowercase()).collect())
    }

    /// Sender info from submitted values (trimmed).
    pub fn new(name: &str, address: &str) -> SenderInfo {
        SenderInfo {
            name: name.trim().to_string(),
            address: address.trim().to_string(),
        }
    }

    /// What is wrong with the values: the name is over [`MAX_SENDER_NAME`] characters or has
    /// line breaks, angle brackets or quotes; the address is not one (empty is allowed).
    pub fn problems(&self) -> Vec<SenderProblem> {
        let mut out = Vec::new();
        if self.name.chars().count() > MAX_SENDER_NAME {
            out.push(SenderProblem::NameTooLong);
        } else if self.name.contains(['\r', '\n', '<', '>', '"']) {
            out.push(SenderProblem::NameChars);
        }
        if !self.address.is_empty()
            && (self.address.chars().count() > MAX_SENDER_ADDRESS || !is_valid_email(&self.address))
        {
            out.push(SenderProblem::Address);
        }
        out
    }

    /// Reads and checks the submitted sender info.
    pub fn read(form: &Pairs, errors: &mut FormErrors) -> SenderInfo {
        let info = SenderInfo::new(form.get("sender_name"), form.get("sender_address"));
        for p in info.problems() {
            match p {
                SenderProblem::NameTooLong => errors.add_with(
                    "sender_name",
                    "validation.too_long",
                    &[("max", &MAX_SENDER_NAME.to_string())],
                ),
                SenderProblem::NameChars => {
                    errors.add("sender_name", "maillayout.error.sender_name_chars")
                }
                SenderProblem::Address => errors.add("sender_address", "validation.email_format"),
            }
        }
        info
    }

    /// Saves the sender info (insert or replace) inside the caller's transaction.
    pub fn save(&self, conn: &mut DbConn, service_id: i64) -> QueryResult<()> {
        let n = diesel::update(mail_sender_info::table.find(service_id))
            .set((
                mail_sender_info::sender_name.eq(&self.name),
                mail_sender_info::sender_address.eq(&self.address),
                mail_sender_info::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(mail_sender_info::table)
                .values((
                    mail_sender_info::service_id.eq(service_id),
                    mail_sender_info::sender_name.eq(&self.name),
                    mail_sender_info::sender_address.eq(&self.address),
                    mail_sender_info::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// Uses one HTML layout for every kind and language of a service (the single per-service
/// layout of the Open API, API.md §7.10.3; check it with [`check_html_part`] first): each
/// layout keeps its subject (saved or default) and its text part is derived from the HTML.
pub fn save_everywhere(conn: &mut DbConn, service: &Service, html: &str) -> QueryResult<()> {
    for &kind in LayoutKind::ALL {
        for lang in service_langs(service) {
            let subject = load(conn, service.id, kind, lang)?
                .map(|l| l.subject)
                .unwrap_or_else(|| default_layout(kind, lang).subject);
            let layout = MailLayout {
                subject,
                html_body: html.to_string(),
                text_body: String::new(),
            };
            save(conn, service.id, kind, lang, &layout)?;
        }
    }
    Ok(())
}

/// The HTML layout the Open API reports as the service's one layout: the resolve layout of
/// the service's default language (saved or default).
pub fn main_html(conn: &mut DbConn, service: &Service) -> QueryResult<String> {
    let lang = crate::tenancy::service::default_lang(service);
    Ok(effective(conn, service.id, LayoutKind::Resolve, lang)?.html_body)
}

/// When the service's layouts or sender info were last saved, if ever.
pub fn last_saved(conn: &mut DbConn, service_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    let layouts: Option<NaiveDateTime> = mail_layouts::table
        .filter(mail_layouts::service_id.eq(service_id))
        .select(diesel::dsl::max(mail_layouts::updated_at))
        .first(conn)?;
    let sender: Option<NaiveDateTime> = mail_sender_info::table
        .find(service_id)
        .select(mail_sender_info::updated_at)
        .first(conn)
        .optional()?;
    Ok(layouts.max(sender))
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

/// `/{service}/console/settings/mail-layouts`
pub fn layouts_base(code: &str) -> String {
    format!("/{code}/console/settings/mail-layouts")
}

/// One layout slot on the overview.
#[derive(Debug, Clone)]
pub struct LayoutSlot {
    /// Kind name.
    pub kind_label: String,
    /// Language name.
    pub lang_name: String,
    /// Edit link.
    pub href: String,
    /// Whether a layout is saved (otherwise the default applies).
    pub customised: bool,
    /// The subject template in use.
    pub subject: String,
}

/// The overview: every kind × language, and the sender info form.
#[derive(Template)]
#[template(path = "settings/mail_layouts.html")]
pub struct LayoutsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/mail-layouts`
    pub base: String,
    /// Slots.
    pub slots: Vec<LayoutSlot>,
    /// Sender info in the form.
    pub sender: SenderInfo,
    /// Sender form errors.
    pub errors: FormErrors,
    /// Link to the substitution codes.
    pub codes_href: String,
}

/// One layout's edit form.
#[derive(Template)]
#[template(path = "settings/mail_layout_form.html")]
pub struct LayoutFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/mail-layouts`
    pub base: String,
    /// Kind code.
    pub kind: String,
    /// Language code.
    pub lang: String,
    /// Heading (kind and language).
    pub heading: String,
    /// Values in the form.
    pub layout: MailLayout,
    /// Whether a saved layout exists (offers the reset).
    pub customised: bool,
    /// Errors.
    pub errors: FormErrors,
    /// The substitution codes, for the list beside the editor.
    pub codes: Vec<CodeRow>,
}

fn path_target(service: &Service, kind: &str, lang: &str) -> Result<(LayoutKind, Lang), AppError> {
    let kind = LayoutKind::parse(kind).ok_or(AppError::NotFound)?;
    let lang = Lang::parse(lang)
        .filter(|l| service_langs(service).contains(l))
        .ok_or(AppError::NotFound)?;
    Ok((kind, lang))
}

async fn render_overview(
    a: &ServiceAdmin,
    sender: Option<SenderInfo>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let sid = a.service.id;
    let langs = service_langs(&a.service);
    let langs2 = langs.clone();
    let (stored, saved_sender) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for &kind in LayoutKind::ALL {
                for l in &langs2 {
                    out.push((kind, *l, load(c, sid, kind, *l)?));
                }
            }
            Ok((out, SenderInfo::load(c, sid)?))
        })
        .await?;
    let base = layouts_base(&a.service.code);
    let slots = stored
        .into_iter()
        .map(|(kind, l, saved)| LayoutSlot {
            kind_label: i18n::t(lang, kind.label_key()),
            lang_name: l.native_name().to_string(),
            href: format!("{base}/{}/{}", kind.as_str(), l.code()),
            customised: saved.is_some(),
            subject: saved
                .map(|s| s.subject)
                .unwrap_or_else(|| default_layout(kind, l).subject),
        })
        .collect();
    let page = LayoutsPage {
        ctx: PageCtx::console(a, "maillayout.title"),
        codes_href: format!("/{}/console/settings/substitution-codes", a.service.code),
        base,
        slots,
        sender: sender.unwrap_or(saved_sender),
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/mail-layouts`
pub async fn list_layouts(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    render_overview(&a, None, FormErrors::new(lang), StatusCode::OK).await
}

/// `POST /{service_id}/console/settings/mail-layouts/sender`
pub async fn save_sender(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let sender = SenderInfo::read(&form, &mut errors);
    if !errors.is_empty() {
        return render_overview(&a, Some(sender), errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(sender.save(c, sid)?))
        .await?;
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "maillayout.sender_saved")));
    Ok(w::redirect(&req, &layouts_base(&a.service.code)))
}

fn form_page(
    a: &ServiceAdmin,
    kind: LayoutKind,
    l: Lang,
    layout: MailLayout,
    customised: bool,
    errors: FormErrors,
) -> LayoutFormPage {
    let lang = a.viewer().lang;
    LayoutFormPage {
        ctx: PageCtx::console(a, "maillayout.edit_title"),
        base: layouts_base(&a.service.code),
        kind: kind.as_str().to_string(),
        lang: l.code().to_string(),
        heading: format!("{} · {}", i18n::t(lang, kind.label_key()), l.native_name()),
        layout,
        customised,
        errors,
        codes: substitution::code_rows(lang),
    }
}

/// `GET /{service_id}/console/settings/mail-layouts/{kind}/{lang}`
pub async fn edit_layout(
    a: ServiceAdmin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (_, kind, l) = path.into_inner();
    let (kind, l) = path_target(&a.service, &kind, &l)?;
    let sid = a.service.id;
    let saved = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(load(c, sid, kind, l)?))
        .await?;
    let customised = saved.is_some();
    let layout = saved.unwrap_or_else(|| default_layout(kind, l));
    let lang = a.viewer().lang;
    let page = form_page(&a, kind, l, layout, customised, FormErrors::new(lang));
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/mail-layouts/{kind}/{lang}`
pub async fn save_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, kind, l) = path.into_inner();
    let (kind, l) = path_target(&a.service, &kind, &l)?;
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let layout = read_layout(&form, &mut errors);
    let sid = a.service.id;
    if !errors.is_empty() {
        let customised = a
            .viewer()
            .state
            .db
            .read(move |c| Ok(load(c, sid, kind, l)?.is_some()))
            .await?;
        let page = form_page(&a, kind, l, layout, customised, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    a.viewer()
        .state
        .db
        .write(move |c| Ok(save(c, sid, kind, l, &layout)?))
        .await?;
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "maillayout.saved")));
    Ok(w::redirect(&req, &layouts_base(&a.service.code)))
}

/// `POST /{service_id}/console/settings/mail-layouts/{kind}/{lang}/reset`
pub async fn reset_layout(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (_, kind, l) = path.into_inner();
    let (kind, l) = path_target(&a.service, &kind, &l)?;
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(reset(c, sid, kind, l)?))
        .await?;
    let lang = a.viewer().lang;
    a.viewer()
        .flash(Flash::success(i18n::t(lang, "maillayout.reset_done")));
    Ok(w::redirect(&req, &layouts_base(&a.service.code)))
}

/// Registers the layout pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/mail-layouts", web::get().to(list_layouts))
        .route("/settings/mail-layouts/sender", web::post().to(save_sender))
        .route(
            "/settings/mail-layouts/{kind}/{lang}",
            web::get().to(edit_layout),
        )
        .route(
            "/settings/mail-layouts/{kind}/{lang}",
            web::post().to(save_layout),
        )
        .route(
            "/settings/mail-layouts/{kind}/{lang}/reset",
            web::post().to(reset_layout),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_contain_the_content_code() {
        for &kind in LayoutKind::ALL {
            for lang in Lang::ALL {
                let d = default_layout(kind, lang);
                assert!(substitution::contains_code(&d.html_body, CONTENT));
                assert!(substitution::contains_code(&d.text_body, CONTENT));
            }
        }
    }

    #[test]
    fn a_layout_without_content_is_refused() {
        let mut errors = FormErrors::new(Lang::En);
        let form = Pairs(vec![
            ("subject".into(), "Re: #{subject}".into()),
            ("html_body".into(), "<p>Hello</p>".into()),
            ("text_body".into(), "Hello".into()),
        ]);
        read_layout(&form, &mut errors);
        assert!(errors.has("html_body") && errors.has("text_body"));
    }
}
