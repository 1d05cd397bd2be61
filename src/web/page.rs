//! [`PageCtx`], the part every page template shares (language, CSRF token, user, flash,
//! navigation), and [`FormErrors`], field → message pairs for inline validation messages.

use std::collections::BTreeMap;

use crate::common::validation::{Report, Violations};
use crate::i18n::{self, Lang};
use crate::web::auth::{ServiceAccess, SignedIn, Viewer};

/// A one-shot message shown at the top of the next page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    /// `success` or `error` (a CSS class).
    pub kind: String,
    /// The already-translated text.
    pub text: String,
}

impl Flash {
    /// A success message.
    pub fn success(text: impl Into<String>) -> Flash {
        Flash {
            kind: "success".into(),
            text: text.into(),
        }
    }

    /// An error message.
    pub fn error(text: impl Into<String>) -> Flash {
        Flash {
            kind: "error".into(),
            text: text.into(),
        }
    }
}

/// An entry of the left menu.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Link target.
    pub href: String,
    /// Translated label.
    pub label: String,
    /// Whether it is the current page.
    pub active: bool,
}

/// A service in the top bar's switcher.
#[derive(Debug, Clone)]
pub struct NavService {
    /// URL id.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Whether it is the service being viewed.
    pub current: bool,
}

/// Which layout area a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Sign-in, setup, error pages: no menus.
    Public,
    /// `/admin/…`
    Admin,
    /// `/{service}/console/…`
    Console,
    /// `/account`
    Account,
}

/// Everything the shared layouts need.
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// UI language.
    pub lang: Lang,
    /// CSRF token for forms and htmx.
    pub csrf: String,
    /// Signed-in user's display name.
    pub user_name: Option<String>,
    /// Whether the user administers the organization.
    pub is_org_admin: bool,
    /// Message carried over a redirect.
    pub flash: Option<Flash>,
    /// Organization name (the product name before setup).
    pub org_name: String,
    /// Whether the organization has a logo to show.
    pub has_logo: bool,
    /// Services for the switcher.
    pub services: Vec<NavService>,
    /// The left menu as one list.
    pub menu: Vec<NavItem>,
    /// The console menu in sections (empty elsewhere: the sidebar shows `menu`).
    pub nav: Vec<crate::console::nav::NavPart>,
    /// The layout area.
    pub area: Area,
    /// The current path (for the language switcher's return).
    pub path: String,
    /// The page title (translated).
    pub title: String,
    /// Cache-busting version of the embedded assets.
    pub asset_version: &'static str,
}

impl PageCtx {
    /// Context for a page anyone can see.
    pub fn public(v: &Viewer, title_key: &str) -> PageCtx {
        PageCtx {
            lang: v.lang,
            csrf: v.csrf.clone(),
            user_name: v.user.as_ref().map(|u| u.name.clone()),
            is_org_admin: v.user.as_ref().is_some_and(|u| u.is_org_admin),
            flash: v.flash.clone(),
            org_name: v
                .org
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_else(|| "OpenContact".into()),
            has_logo: v.org.as_ref().is_some_and(|o| o.logo_path.is_some()),
            services: Vec::new(),
            menu: Vec::new(),
            nav: Vec::new(),
            area: Area::Public,
            path: v.path.clone(),
            title: i18n::t(v.lang, title_key),
            asset_version: crate::web::assets::version(),
        }
    }

    /// Context for error pages, which are rendered without touching the database.
    pub fn bare(lang: Lang, path: &str, title_key: &str) -> PageCtx {
        PageCtx {
            lang,
            csrf: String::new(),
            user_name: None,
            is_org_admin: false,
            flash: None,
            org_name: "OpenContact".into(),
            has_logo: false,
            services: Vec::new(),
            menu: Vec::new(),
            nav: Vec::new(),
            area: Area::Public,
            path: path.to_string(),
            title: i18n::t(lang, title_key),
            asset_version: crate::web::assets::version(),
        }
    }

    fn signed(s: &SignedIn, title_key: &str, area: Area, current: Option<&str>) -> PageCtx {
        let mut ctx = PageCtx::public(&s.viewer, title_key);
        ctx.area = area;
        ctx.services = s
            .services
            .iter()
            .map(|(svc, _)| NavService {
                code: svc.code.clone(),
                name: svc.name.clone(),
                current: current == Some(svc.code.as_str()),
            })
            .collect();
        ctx
    }

    /// Context for the organization-management area.
    pub fn admin(s: &SignedIn, title_key: &str) -> PageCtx {
        let mut ctx = PageCtx::signed(s, title_key, Area::Admin, None);
        let items: [(&str, &str); 8] = [
            ("/admin/organization", "nav.admin.organization"),
            ("/admin/services", "nav.admin.services"),
            ("/admin/members", "nav.admin.members"),
            ("/admin/administrators", "nav.admin.administrators"),
            ("/admin/company-info", "nav.admin.company_info"),
            ("/admin/mail", "nav.admin.mail"),
            ("/admin/audit", "nav.admin.audit"),
            ("/admin/outbox", "outbox.nav"),
        ];
        ctx.menu = items
            .iter()
            .map(|(href, key)| NavItem {
                href: (*href).to_string(),
                label: i18n::t(s.viewer.lang, key),
                active: s.viewer.path.starts_with(href),
            })
            .collect();
        ctx
    }

    /// Context for the personal area (my account).
    pub fn account(s: &SignedIn, title_key: &str) -> PageCtx {
        PageCtx::signed(s, title_key, Area::Account, None)
    }

    /// Context for a service's console: the menu (in sections, [`crate::console::nav`]) shows
    /// only what this user may open.
    pub fn console(a: &ServiceAccess, title_key: &str) -> PageCtx {
        let code = a.service.code.as_str();
        let mut ctx = PageCtx::signed(&a.signed, title_key, Area::Console, Some(code));
        ctx.nav = crate::console::nav::build(a);
        ctx.menu = crate::console::nav::flatten(&ctx.nav);
        ctx
    }

    /// Translates a key into the page's language.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// All UI languages with their native names, for the switcher.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == self.lang))
            .collect()
    }

    /// The current path, URL-encoded, for `?next=` links.
    pub fn next_param(&self) -> String {
        crate::common::text::url_encode(&self.path)
    }
}

/// Validation messages by field name, already translated.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    lang: Lang,
    errors: BTreeMap<String, String>,
}

impl FormErrors {
    /// An empty set for a language.
    pub fn new(lang: Lang) -> FormErrors {
        FormErrors {
            lang,
            errors: BTreeMap::new(),
        }
    }

    /// Adds the message `key` for `field` (the first message per field wins).
    pub fn add(&mut self, field: &str, key: &str) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| i18n::t(self.lang, key));
    }

    /// Adds a message with `{name}` substitutions.
    pub fn add_with(&mut self, field: &str, key: &str, args: &[(&str, &str)]) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| i18n::tf(self.lang, key, args));
    }

    /// Adds an already translated message for `field` (the first message per field wins).
    pub fn add_text(&mut self, field: &str, message: String) {
        self.errors.entry(field.to_string()).or_insert(message);
    }

    /// Adds the translations of domain violations (the first message per field still wins).
    pub fn extend(&mut self, violations: &Violations) {
        for v in violations.iter() {
            let args: Vec<(&str, &str)> = v
                .args
                .iter()
                .map(|(k, a)| (k.as_str(), a.as_str()))
                .collect();
            self.add_with(&v.field, &v.key, &args);
        }
    }

    /// The translations of domain violations in `lang`.
    pub fn translate(lang: Lang, violations: &Violations) -> FormErrors {
        let mut errors = FormErrors::new(lang);
        errors.extend(violations);
        errors
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message for a field, or an empty string (templates print it when not empty).
    pub fn get(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }

    /// Whether the field has a message.
    pub fn has(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// All messages (for a summary at the top of a form).
    pub fn all(&self) -> Vec<&str> {
        self.errors.values().map(String::as_str).collect()
    }
}

/// A form's errors take domain checks' reports directly, translated as they come.
impl Report for FormErrors {
    fn add_with(&mut self, field: &str, key: &str, args: &[(&str, &str)]) {
        FormErrors::add_with(self, field, key, args);
    }

    fn has(&self, field: &str) -> bool {
        FormErrors::has(self, field)
    }

    fn is_empty(&self) -> bool {
        FormErrors::is_empty(self)
    }
}
