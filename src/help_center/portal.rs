//! The customer-facing help center (`/{service_id}/hc/…`, SPEC §4.1): main page, notices,
//! FAQ, articles and one search across both — for anyone, without signing in, on an enabled
//! consultation service (404 otherwise). Pages are server-rendered and work without JavaScript;
//! lists are loaded with their names in a handful of bounded queries (no per-row queries).
//!
//! Language: `?lang=` (remembered in a cookie scoped to this help center), then that cookie,
//! then the service's default; content falls back to the default language when a translation is
//! missing. `?iframe=true` drops the header and footer, keeps itself on every link, allows
//! framing by the service's `hc_frame_ancestors` and posts the page height to the parent.

use std::collections::HashMap;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::common::names::{Names, pick_name};
use crate::common::text::url_encode;
use crate::common::time::local_date;
use crate::db::now;
use crate::db::search::SearchQuery;
use crate::db::types::ServiceKind;
use crate::error::AppError;
use crate::help_center::attachments::{self, Attachment, Owner};
use crate::help_center::faq::{self, Faq, Tree};
use crate::help_center::notices::{self, Notice, PortalFilter};
use crate::help_center::settings::{self, HcSettings};
use crate::i18n::{self, Lang};
use crate::org::company::CompanyInfo;
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_langs, service_tz};
use crate::web::headers::FrameAncestors;
use crate::web::{PageCtx, Viewer};

/// The cookie remembering the help-center language (path-scoped to one help center).
pub const HC_LANG_COOKIE: &str = "oc_hc_lang";
/// Items per portal list page.
const PAGE_SIZE: i64 = 15;
/// Highest page number served (bounds the offset).
const MAX_PAGE: i64 = 500;
/// FAQs on the main page.
const MAIN_FAQS: i64 = 5;
/// Notices on the main page.
const MAIN_NOTICES: i64 = 5;
/// Results per section of the unified search page.
const SEARCH_RESULTS: i64 = 10;

/// A language in the selector.
#[derive(Debug, Clone)]
pub struct LangLink {
    /// Code.
    pub code: String,
    /// Native name.
    pub name: String,
    /// Whether it is the page's language.
    pub current: bool,
    /// This page in that language.
    pub href: String,
}

/// What every portal page shares.
#[derive(Debug, Clone)]
pub struct HcCtx {
    /// Service ID.
    pub code: String,
    /// Service name.
    pub name: String,
    /// `/{service}/hc`
    pub base: String,
    /// The content language.
    pub lang: Lang,
    /// The selector (empty with one language).
    pub languages: Vec<LangLink>,
    /// Rendered inside an iframe.
    pub iframe: bool,
    /// Query pairs every link and form keeps (`iframe`, `lang` inside iframes).
    pub keep: Vec<(String, String)>,
    /// Whether the service has its own logo.
    pub has_logo: bool,
    /// Whether the organization has a logo (used when the service has none).
    pub org_logo: bool,
    /// Whether custom CSS is configured.
    pub has_css: bool,
    /// Cache-busting version of the logo and stylesheet.
    pub version: String,
    /// Cards and pages shown.
    pub show_notices: bool,
    /// FAQ shown.
    pub show_faq: bool,
    /// Inquiry card shown.
    pub show_inquiry: bool,
    /// Inquiry-history card shown.
    pub show_history: bool,
    /// Footer record.
    pub company: Option<CompanyInfo>,
    /// Cache-busting version of our own assets.
    pub asset_version: &'static str,
}

impl HcCtx {
    /// A link inside the help center that keeps the iframe and language parameters.
    pub fn href(&self, path: &str) -> String {
        let mut url = format!("{}{}", self.base, path);
        for (k, v) in &self.keep {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{k}={}", url_encode(v)));
        }
        url
    }

    /// Translates a UI key into the page's language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// Company info lines.
    pub fn company_lines(&self) -> Vec<String> {
        self.company
            .as_ref()
            .map(|c| c.company_info.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Everything a portal handler needs.
pub struct Portal {
    /// The service.
    pub service: Service,
    /// Its configuration.
    pub settings: HcSettings,
    /// The shared page data.
    pub hc: HcCtx,
    /// The shared layout context.
    pub ctx: PageCtx,
    /// A language cookie to set.
    cookie: Option<Cookie<'static>>,
}

fn query_value(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl Portal {
    /// Loads the service (enabled CM only, else 404), its configuration, and the language.
    pub async fn load(
        req: &HttpRequest,
        v: &Viewer,
        code: &str,
        title_key: &str,
    ) -> Result<Portal, AppError> {
        let code = code.to_string();
        let (service, settings, company) = v
            .state
            .db
            .read(move |c| {
                let service = Service::find_by_code(c, &code)?
                    .filter(|s| s.enabled && s.kind() == ServiceKind::Consultation)
                    .ok_or(AppError::NotFound)?;
                let settings = HcSettings::load(c, service.id)?;
                let company = match settings.company_info_id {
                    Some(id) => CompanyInfo::find(c, id)?,
                    None => None,
                };
                Ok((service, settings, company))
            })
            .await?;
        let langs = service_langs(&service);
        let default = default_lang(&service);
        let pick = |s: Option<String>| {
            s.as_deref()
                .and_then(Lang::parse)
                .filter(|l| langs.contains(l))
        };
        let from_query = pick(query_value(req, "lang"));
        let from_cookie = pick(req.cookie(HC_LANG_COOKIE).map(|c| c.value().to_string()));
        let lang = from_query.or(from_cookie).unwrap_or(default);
        let base = format!("/{}/hc", service.code);
        let cookie = from_query.filter(|l| Some(*l) != from_cookie).map(|l| {
            Cookie::build(HC_LANG_COOKIE, l.code().to_string())
                .path(base.clone())
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish()
        });
        let iframe = query_value(req, "iframe").is_some_and(|v| v == "true");
        let mut keep = Vec::new();
        if iframe {
            keep.push(("iframe".to_string(), "true".to_string()));
            if langs.len() > 1 {
                // Cookies may not reach a framed page; the language travels in the links.
                keep.push(("lang".to_string(), lang.code().to_string()));
            }
        }
        let other_query: Vec<(String, String)> =
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .filter(|(k, _)| k != "lang")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let languages = if langs.len() > 1 {
            langs
                .iter()
                .map(|l| {
                    let mut pairs = other_query.clone();
                    pairs.push(("lang".into(), l.code().into()));
                    let qs = pairs
                        .iter()
                        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                        .collect::<Vec<_>>()
                        .join("&");
                    LangLink {
                        code: l.code().into(),
                        name: l.native_name().into(),
                        current: *l == lang,
                        href: format!("{}?{qs}", req.path()),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let features = service.features();
        let hc = HcCtx {
            code: service.code.clone(),
            name: service.name.clone(),
            base,
            lang,
            languages,
            iframe,
            keep,
            has_logo: settings.logo_path.is_some(),
            org_logo: v.org.as_ref().is_some_and(|o| o.logo_path.is_some()),
            has_css: !settings.custom_css.trim().is_empty(),
            version: settings.version(),
            show_notices: settings.show_notices && features.notice,
            show_faq: settings.show_faq && features.faq,
            show_inquiry: settings.show_inquiry && features.inquiry,
            show_history: settings.show_history && features.inquiry,
            company,
            asset_version: crate::web::assets::version(),
        };
        let mut ctx = PageCtx::public(v, title_key);
        ctx.lang = lang;
        ctx.title = i18n::t(lang, title_key);
        ctx.org_name = service.name.clone();
        ctx.path = req.path().to_string();
        Ok(Portal {
            service,
            settings,
            hc,
            ctx,
            cookie,
        })
    }

    /// Renders a page with the language cookie and, in iframe mode, the framing allowance.
    pub fn respond<T: Template>(&self, page: &T) -> Result<HttpResponse, AppError> {
        let mut resp = crate::web::html(StatusCode::OK, page)?;
        if let Some(c) = &self.cookie {
            resp.add_cookie(c)
                .map_err(|e| AppError::Internal(format!("cookie: {e}")))?;
        }
        if self.hc.iframe {
            resp.extensions_mut()
                .insert(FrameAncestors(self.service.hc_frame_ancestors.clone()));
        }
        Ok(resp)
    }

    /// Renders a page with a status other than 200 (a form with errors), keeping the framing
    /// allowance in iframe mode.
    pub fn respond_status<T: Template>(
        &self,
        status: StatusCode,
        page: &T,
    ) -> Result<HttpResponse, AppError> {
        if status == StatusCode::OK {
            return self.respond(page);
        }
        let mut resp = crate::web::html(status, page)?;
        if self.hc.iframe {
            resp.extensions_mut()
                .insert(FrameAncestors(self.service.hc_frame_ancestors.clone()));
        }
        Ok(resp)
    }

    fn fallback(&self) -> Lang {
        default_lang(&self.service)
    }
}

/// A tab or filter link.
#[derive(Debug, Clone)]
pub struct Tab {
    /// Label.
    pub label: String,
    /// Target.
    pub href: String,
    /// Selected.
    pub active: bool,
}

/// An FAQ in a list.
#[derive(Debug, Clone)]
pub struct FaqItem {
    /// Key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Article link.
    pub href: String,
    /// Pinned (shown as HOT).
    pub hot: bool,
    /// Category path.
    pub category: String,
    /// Last update (local date).
    pub date: String,
    /// Reads.
    pub views: i64,
}

/// A notice in a list.
#[derive(Debug, Clone)]
pub struct NoticeItem {
    /// Key (also the number shown).
    pub id: i64,
    /// Title.
    pub title: String,
    /// Detail link.
    pub href: String,
    /// Heading name.
    pub heading: String,
    /// Tag names.
    pub tags: Vec<String>,
    /// Pinned on top.
    pub pinned: bool,
    /// Display date.
    pub date: String,
    /// Reads.
    pub views: i64,
}

/// An attachment link.
#[derive(Debug, Clone)]
pub struct AttachmentLink {
    /// File name.
    pub name: String,
    /// Download link.
    pub href: String,
    /// Size label.
    pub size: String,
}

fn faq_items(
    p: &Portal,
    rows: &[Faq],
    titles: &HashMap<i64, (String, String)>,
    tree: &Tree<'_>,
    hot: impl Fn(&Faq) -> bool,
) -> Vec<FaqItem> {
    let tz = service_tz(&p.service);
    rows.iter()
        .filter_map(|f| {
            let (title, _) = titles.get(&f.id)?;
            Some(FaqItem {
                id: f.id,
                title: title.clone(),
                href: p.hc.href(&format!("/article/{}/", f.id)),
                hot: hot(f),
                category: f
                    .category_id
                    .map(|c| tree.path_name(c, p.hc.lang, p.fallback()))
                    .unwrap_or_default(),
                date: local_date(tz, f.updated_at),
                views: f.view_count,
            })
        })
        .collect()
}

struct NoticeNames {
    headings: HashMap<i64, Names>,
    tags: HashMap<i64, Names>,
}

fn notice_items(
    p: &Portal,
    rows: &[Notice],
    titles: &HashMap<i64, (String, String)>,
    tag_map: &HashMap<i64, Vec<i64>>,
    names: &NoticeNames,
) -> Vec<NoticeItem> {
    let (lang, fallback) = (p.hc.lang, p.fallback());
    rows.iter()
        .filter_map(|n| {
            let (title, _) = titles.get(&n.id)?;
            Some(NoticeItem {
                id: n.id,
                title: title.clone(),
                href: p.hc.href(&format!("/notices/{}", n.id)),
                heading: names
                    .headings
                    .get(&n.heading_id)
                    .map(|h| pick_name(h, lang, fallback))
                    .unwrap_or_default(),
                tags: tag_map
                    .get(&n.id)
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|t| names.tags.get(t).map(|x| pick_name(x, lang, fallback)))
                            .collect()
                    })
                    .unwrap_or_default(),
                pinned: n.pinned,
                date: n.display_date.clone(),
                views: n.view_count,
            })
        })
        .collect()
}

fn load_notice_names(c: &mut crate::db::DbConn, sid: i64) -> Result<NoticeNames, AppError> {
    Ok(NoticeNames {
        headings: notices::headings(c, sid)?
            .into_iter()
            .map(|l| (l.id, l.names))
            .collect(),
        tags: notices::tags(c, sid)?
            .into_iter()
            .map(|l| (l.id, l.names))
            .collect(),
    })
}

/// The main page.
#[derive(Template)]
#[template(path = "help_center/portal_main.html")]
pub struct MainPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Pinned (then recent) FAQs.
    pub faqs: Vec<FaqItem>,
    /// Recent notices.
    pub notices: Vec<NoticeItem>,
}

/// `GET /{service_id}/hc` → `/{service_id}/hc/`
pub async fn main_redirect(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let qs = req.query_string();
    let to = if qs.is_empty() {
        format!("/{}/hc/", path.as_str())
    } else {
        format!("/{}/hc/?{qs}", path.as_str())
    };
    HttpResponse::MovedPermanently()
        .insert_header(("Location", to))
        .finish()
}

/// `GET /{service_id}/hc/`
pub async fn main_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.home").await?;
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let (show_faq, show_notices) = (p.hc.show_faq, p.hc.show_notices);
    let at = now();
    let (tree, faqs, faq_titles, notices_rows, notice_titles, tag_map, names) = v
        .state
        .db
        .read(move |c| {
            let (tree, faqs, faq_titles) = if show_faq {
                let faqs = faq::main_page(c, sid, MAIN_FAQS)?;
                let ids: Vec<i64> = faqs.iter().map(|f| f.id).collect();
                (
                    faq::category_tree(c, sid)?,
                    faqs.clone(),
                    faq::localized(c, &ids, lang, fallback)?,
                )
            } else {
                (Vec::new(), Vec::new(), HashMap::new())
            };
            let (rows, titles, tag_map, names) = if show_notices {
                let (rows, _) =
                    notices::portal_page(c, sid, &PortalFilter::default(), at, 0, MAIN_NOTICES)?;
                let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
                (
                    rows,
                    notices::localized(c, &ids, lang, fallback)?,
                    notices::tag_ids_of(c, &ids)?,
                    load_notice_names(c, sid)?,
                )
            } else {
                (
                    Vec::new(),
                    HashMap::new(),
                    HashMap::new(),
                    NoticeNames {
                        headings: HashMap::new(),
                        tags: HashMap::new(),
                    },
                )
            };
            Ok((tree, faqs, faq_titles, rows, titles, tag_map, names))
        })
        .await?;
    let page = MainPage {
        faqs: faq_items(&p, &faqs, &faq_titles, &Tree(&tree), |f| f.pin_main),
        notices: notice_items(&p, &notices_rows, &notice_titles, &tag_map, &names),
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// List queries (`page` is 1-based).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    heading: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    fn page(&self) -> i64 {
        self.page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, MAX_PAGE)
    }

    fn text(&self) -> String {
        self.q.trim().chars().take(100).collect()
    }
}

/// Builds `path?k=v…` inside the help center, keeping the iframe/lang pairs.
fn list_href(hc: &HcCtx, path: &str, pairs: &[(&str, String)]) -> String {
    let qs: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if qs.is_empty() {
        hc.href(path)
    } else {
        hc.href(&format!("{path}?{}", qs.join("&")))
    }
}

/// The notices list.
#[derive(Template)]
#[template(path = "help_center/portal_notices.html")]
pub struct NoticesPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Heading tabs (first: all).
    pub tabs: Vec<Tab>,
    /// Tag filters.
    pub tags: Vec<Tab>,
    /// Search text.
    pub q: String,
    /// Hidden inputs of the search form.
    pub hidden: Vec<(String, String)>,
    /// Rows.
    pub items: Vec<NoticeItem>,
    /// Previous page.
    pub prev_href: Option<String>,
    /// Next page.
    pub next_href: Option<String>,
}

/// `GET /{service_id}/hc/notices`
pub async fn notices_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.notices").await?;
    if !p.hc.show_notices {
        return Err(AppError::NotFound);
    }
    let q = query.text();
    let page_no = query.page();
    let heading = query.heading.trim().parse::<i64>().ok();
    let tag = query.tag.trim().parse::<i64>().ok();
    let parsed = SearchQuery::parse(&q);
    let nothing = !q.is_empty() && parsed.is_none();
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let at = now();
    let (rows, more, titles, tag_map, names, heading_order) = v
        .state
        .db
        .read(move |c| {
            let headings = notices::headings(c, sid)?;
            let order: Vec<i64> = headings.iter().map(|h| h.id).collect();
            let names = load_notice_names(c, sid)?;
            if nothing {
                return Ok((
                    Vec::new(),
                    false,
                    HashMap::new(),
                    HashMap::new(),
                    names,
                    order,
                ));
            }
            let filter = PortalFilter {
                heading_id: heading,
                tag_id: tag,
                query: parsed,
            };
            let (rows, more) =
                notices::portal_page(c, sid, &filter, at, (page_no - 1) * PAGE_SIZE, PAGE_SIZE)?;
            let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
            let titles = notices::localized(c, &ids, lang, fallback)?;
            let tag_map = notices::tag_ids_of(c, &ids)?;
            Ok((rows, more, titles, tag_map, names, order))
        })
        .await?;
    let hc = &p.hc;
    let heading_s = heading.map(|h| h.to_string()).unwrap_or_default();
    let tag_s = tag.map(|t| t.to_string()).unwrap_or_default();
    let mut tabs = vec![Tab {
        label: hc.t("hc.portal.all"),
        href: list_href(hc, "/notices", &[("tag", tag_s.clone()), ("q", q.clone())]),
        active: heading.is_none(),
    }];
    for id in &heading_order {
        if let Some(n) = names.headings.get(id) {
            tabs.push(Tab {
                label: pick_name(n, lang, fallback),
                href: list_href(
                    hc,
                    "/notices",
                    &[
                        ("heading", id.to_string()),
                        ("tag", tag_s.clone()),
                        ("q", q.clone()),
                    ],
                ),
                active: heading == Some(*id),
            });
        }
    }
    let mut tag_ids: Vec<&i64> = names.tags.keys().collect();
    tag_ids.sort();
    let tags = tag_ids
        .into_iter()
        .map(|id| Tab {
            label: pick_name(&names.tags[id], lang, fallback),
            href: list_href(
                hc,
                "/notices",
                &[
                    ("heading", heading_s.clone()),
                    (
                        "tag",
                        if tag == Some(*id) {
                            String::new()
                        } else {
                            id.to_string()
                        },
                    ),
                    ("q", q.clone()),
                ],
            ),
            active: tag == Some(*id),
        })
        .collect();
    let page_href = |n: i64| {
        list_href(
            hc,
            "/notices",
            &[
                ("heading", heading_s.clone()),
                ("tag", tag_s.clone()),
                ("q", q.clone()),
                ("page", n.to_string()),
            ],
        )
    };
    let mut hidden = hc.keep.clone();
    if heading.is_some() {
        hidden.push(("heading".into(), heading_s.clone()));
    }
    if tag.is_some() {
        hidden.push(("tag".into(), tag_s.clone()));
    }
    let page = NoticesPage {
        items: notice_items(&p, &rows, &titles, &tag_map, &names),
        prev_href: (page_no > 1).then(|| page_href(page_no - 1)),
        next_href: more.then(|| page_href(page_no + 1)),
        tabs,
        tags,
        hidden,
        q,
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// A notice or an FAQ article.
#[derive(Template)]
#[template(path = "help_center/portal_article.html")]
pub struct ArticlePage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// `faq` or `notice`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Body: HTML sanitised with ammonia before it was stored.
    pub body: String,
    /// Breadcrumb label (category path or heading).
    pub section: String,
    /// Tag names (notices).
    pub tags: Vec<String>,
    /// Date shown.
    pub date: String,
    /// Reads, this one included.
    pub views: i64,
    /// Attachments.
    pub attachments: Vec<AttachmentLink>,
    /// Back to the list.
    pub back_href: String,
}

fn attachment_links(hc: &HcCtx, atts: Vec<Attachment>) -> Vec<AttachmentLink> {
    atts.into_iter()
        .map(|a| AttachmentLink {
            href: hc.href(&format!(
                "/attachments/{}/{}",
                a.id,
                url_encode(&a.file_name)
            )),
            size: a.size_label(),
            name: a.file_name,
        })
        .collect()
}

/// `GET /{service_id}/hc/notices/{id}` — counts a read.
pub async fn notice_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let p = Portal::load(&req, &v, &code, "hc.portal.notices").await?;
    if !p.hc.show_notices {
        return Err(AppError::NotFound);
    }
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let at = now();
    let (n, texts, tag_ids, names, atts) = v
        .state
        .db
        .write(move |c| {
            let n = notices::find_visible(c, sid, id, at)?.ok_or(AppError::NotFound)?;
            notices::count_view(c, id)?;
            let texts = notices::localized(c, &[id], lang, fallback)?;
            let tag_ids = notices::tag_ids_of(c, &[id])?
                .remove(&id)
                .unwrap_or_default();
            let names = load_notice_names(c, sid)?;
            let atts = Attachment::of(c, Owner::Notice(id))?;
            Ok((n, texts, tag_ids, names, atts))
        })
        .await?;
    let (title, body) = texts.get(&id).cloned().unwrap_or_default();
    let mut ctx = p.ctx.clone();
    ctx.title = title.clone();
    let page = ArticlePage {
        ctx,
        kind: "notice".into(),
        title,
        body,
        section: names
            .headings
            .get(&n.heading_id)
            .map(|h| pick_name(h, lang, fallback))
            .unwrap_or_default(),
        tags: tag_ids
            .iter()
            .filter_map(|t| names.tags.get(t).map(|x| pick_name(x, lang, fallback)))
            .collect(),
        date: n.display_date.clone(),
        views: n.view_count + 1,
        attachments: attachment_links(&p.hc, atts),
        back_href: p.hc.href("/notices"),
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// The FAQ list.
#[derive(Template)]
#[template(path = "help_center/portal_faq.html")]
pub struct FaqPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Category tabs, one row per level down to the chosen node (first row starts with "all").
    pub levels: Vec<Vec<Tab>>,
    /// Chosen category path.
    pub category_name: String,
    /// Search text.
    pub q: String,
    /// Hidden inputs of the search form (keeps the category).
    pub hidden: Vec<(String, String)>,
    /// Rows.
    pub items: Vec<FaqItem>,
    /// Previous page.
    pub prev_href: Option<String>,
    /// Next page.
    pub next_href: Option<String>,
}

/// `GET /{service_id}/hc/faq`
pub async fn faq_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.faq").await?;
    if !p.hc.show_faq {
        return Err(AppError::NotFound);
    }
    let q = query.text();
    let page_no = query.page();
    let wanted = query.category.trim().parse::<i64>().ok();
    let parsed = SearchQuery::parse(&q);
    let nothing = !q.is_empty() && parsed.is_none();
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let (tree, rows, more, titles, category) = v
        .state
        .db
        .read(move |c| {
            let tree = faq::category_tree(c, sid)?;
            let category = wanted.filter(|id| tree.iter().any(|n| n.id == *id));
            if wanted.is_some() && category.is_none() {
                return Err(AppError::NotFound);
            }
            if nothing {
                return Ok((tree, Vec::new(), false, HashMap::new(), category));
            }
            let subtree = category.map(|id| Tree(&tree).subtree(id));
            let (rows, more) = faq::portal_page(
                c,
                sid,
                subtree.as_deref(),
                parsed.as_ref(),
                (page_no - 1) * PAGE_SIZE,
                PAGE_SIZE,
            )?;
            let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
            let titles = faq::localized(c, &ids, lang, fallback)?;
            Ok((tree, rows, more, titles, category))
        })
        .await?;
    let t = Tree(&tree);
    let hc = &p.hc;
    let chosen_path: Vec<i64> = category
        .map(|id| t.path(id).iter().map(|c| c.id).collect())
        .unwrap_or_default();
    let mut levels: Vec<Vec<Tab>> = Vec::new();
    let mut parent: Option<i64> = None;
    for depth in 0..3 {
        let children = t.children(parent);
        if children.is_empty() {
            break;
        }
        let mut row: Vec<Tab> = Vec::new();
        if depth == 0 {
            row.push(Tab {
                label: hc.t("hc.portal.all"),
                href: list_href(hc, "/faq", &[("q", q.clone())]),
                active: category.is_none(),
            });
        }
        for c in children {
            row.push(Tab {
                label: pick_name(&c.names, lang, fallback),
                href: list_href(
                    hc,
                    "/faq",
                    &[("category", c.id.to_string()), ("q", q.clone())],
                ),
                active: chosen_path.contains(&c.id),
            });
        }
        levels.push(row);
        match chosen_path.get(depth) {
            Some(id) => parent = Some(*id),
            None => break,
        }
    }
    let category_s = category.map(|c| c.to_string()).unwrap_or_default();
    let page_href = |n: i64| {
        list_href(
            hc,
            "/faq",
            &[
                ("category", category_s.clone()),
                ("q", q.clone()),
                ("page", n.to_string()),
            ],
        )
    };
    let mut hidden = hc.keep.clone();
    if category.is_some() {
        hidden.push(("category".into(), category_s.clone()));
    }
    let in_category = category.is_some();
    let page = FaqPage {
        items: faq_items(&p, &rows, &titles, &t, |f| {
            if in_category {
                f.pin_category
            } else {
                f.pin_main
            }
        }),
        category_name: category
            .map(|c| t.path_name(c, lang, fallback))
            .unwrap_or_default(),
        prev_href: (page_no > 1).then(|| page_href(page_no - 1)),
        next_href: more.then(|| page_href(page_no + 1)),
        levels,
        hidden,
        q,
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// `GET /{service_id}/hc/article/{id}/` — an FAQ article; counts a read.
pub async fn article_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let p = Portal::load(&req, &v, &code, "hc.portal.faq").await?;
    if !p.hc.show_faq {
        return Err(AppError::NotFound);
    }
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let (f, texts, tree, atts) = v
        .state
        .db
        .write(move |c| {
            let f = faq::find_published(c, sid, id)?.ok_or(AppError::NotFound)?;
            faq::count_view(c, id)?;
            let texts = faq::localized(c, &[id], lang, fallback)?;
            let tree = faq::category_tree(c, sid)?;
            let atts = Attachment::of(c, Owner::Faq(id))?;
            Ok((f, texts, tree, atts))
        })
        .await?;
    let (title, body) = texts.get(&id).cloned().unwrap_or_default();
    let t = Tree(&tree);
    let mut ctx = p.ctx.clone();
    ctx.title = title.clone();
    let tz = service_tz(&p.service);
    let back_href = match f.category_id {
        Some(c) if t.get(c).is_some() => list_href(&p.hc, "/faq", &[("category", c.to_string())]),
        _ => p.hc.href("/faq"),
    };
    let page = ArticlePage {
        ctx,
        kind: "faq".into(),
        title,
        body,
        section: f
            .category_id
            .map(|c| t.path_name(c, lang, fallback))
            .unwrap_or_default(),
        tags: Vec::new(),
        date: local_date(tz, f.updated_at),
        views: f.view_count + 1,
        attachments: attachment_links(&p.hc, atts),
        back_href,
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// The unified search page.
#[derive(Template)]
#[template(path = "help_center/portal_search.html")]
pub struct SearchPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Search text.
    pub q: String,
    /// Whether a query was given.
    pub searched: bool,
    /// FAQ hits.
    pub faqs: Vec<FaqItem>,
    /// More FAQ hits (link to the FAQ list search).
    pub more_faqs: Option<String>,
    /// Notice hits.
    pub notices: Vec<NoticeItem>,
    /// More notice hits.
    pub more_notices: Option<String>,
}

/// `GET /{service_id}/hc/search?q=…` — FAQ and notices at once.
pub async fn search_page(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.search").await?;
    let q = query.text();
    let parsed = SearchQuery::parse(&q);
    let (sid, lang, fallback) = (p.service.id, p.hc.lang, p.fallback());
    let (show_faq, show_notices) = (p.hc.show_faq, p.hc.show_notices);
    let at = now();
    let parsed2 = parsed.clone();
    let (tree, faqs, more_f, faq_titles, rows, more_n, titles, tag_map, names) = v
        .state
        .db
        .read(move |c| {
            let Some(query) = parsed2 else {
                return Ok((
                    Vec::new(),
                    Vec::new(),
                    false,
                    HashMap::new(),
                    Vec::new(),
                    false,
                    HashMap::new(),
                    HashMap::new(),
                    NoticeNames {
                        headings: HashMap::new(),
                        tags: HashMap::new(),
                    },
                ));
            };
            let (tree, faqs, more_f, faq_titles) = if show_faq {
                let (faqs, more) = faq::portal_page(c, sid, None, Some(&query), 0, SEARCH_RESULTS)?;
                let ids: Vec<i64> = faqs.iter().map(|f| f.id).collect();
                (
                    faq::category_tree(c, sid)?,
                    faqs.clone(),
                    more,
                    faq::localized(c, &ids, lang, fallback)?,
                )
            } else {
                (Vec::new(), Vec::new(), false, HashMap::new())
            };
            let (rows, more_n, titles, tag_map, names) = if show_notices {
                let filter = PortalFilter {
                    query: Some(query),
                    ..PortalFilter::default()
                };
                let (rows, more) = notices::portal_page(c, sid, &filter, at, 0, SEARCH_RESULTS)?;
                let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
                (
                    rows,
                    more,
                    notices::localized(c, &ids, lang, fallback)?,
                    notices::tag_ids_of(c, &ids)?,
                    load_notice_names(c, sid)?,
                )
            } else {
                (
                    Vec::new(),
                    false,
                    HashMap::new(),
                    HashMap::new(),
                    NoticeNames {
                        headings: HashMap::new(),
                        tags: HashMap::new(),
                    },
                )
            };
            Ok((
                tree, faqs, more_f, faq_titles, rows, more_n, titles, tag_map, names,
            ))
        })
        .await?;
    let page = SearchPage {
        faqs: faq_items(&p, &faqs, &faq_titles, &Tree(&tree), |f| f.pin_main),
        more_faqs: more_f.then(|| list_href(&p.hc, "/faq", &[("q", q.clone())])),
        notices: notice_items(&p, &rows, &titles, &tag_map, &names),
        more_notices: more_n.then(|| list_href(&p.hc, "/notices", &[("q", q.clone())])),
        searched: parsed.is_some(),
        q,
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
    };
    p.respond(&page)
}

/// `GET /{service_id}/hc/attachments/{id}/{name}` — attachments of published FAQs and of
/// notices inside their display period.
pub async fn download(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, id, _) = path.into_inner();
    let p = Portal::load(&req, &v, &code, "hc.portal.home").await?;
    let (sid, show_faq, show_notices) = (p.service.id, p.hc.show_faq, p.hc.show_notices);
    let at = now();
    let a = v
        .state
        .db
        .read(move |c| {
            let a = Attachment::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let visible = match (a.faq_id, a.notice_id) {
                (Some(f), _) => show_faq && faq::find_published(c, sid, f)?.is_some(),
                (_, Some(n)) => show_notices && notices::find_visible(c, sid, n, at)?.is_some(),
                _ => false,
            };
            if visible {
                Ok(a)
            } else {
                Err(AppError::NotFound)
            }
        })
        .await?;
    attachments::serve(&v.state, a).await
}

/// `GET /{service_id}/hc/custom.css`
pub async fn custom_css(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.home").await?;
    Ok(settings::css_response(p.settings.custom_css))
}

/// `GET /{service_id}/hc/logo`
pub async fn logo(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = Portal::load(&req, &v, &path, "hc.portal.home").await?;
    let (Some(file), Some(mime)) = (p.settings.logo_path, p.settings.logo_mime) else {
        return Err(AppError::NotFound);
    };
    let full = v.state.config.data_dir.join(file);
    let bytes = web::block(move || std::fs::read(full))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", mime))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(bytes))
}
