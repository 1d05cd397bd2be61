//! Who is asking, and may they? Every route states its requirement by the extractor it takes:
//! [`Viewer`] (anyone), [`SignedIn`], [`OrgAdmin`], and for `/{service_id}/console/…`
//! [`ServiceMember`], [`ServiceAdmin`] and [`AgentManager`]. The checks live here and nowhere else.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::AppState;
use crate::db::types::UserId;
use crate::db::types::{Menu, Role};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::member::Member;
use crate::tenancy::organization::Organization;
use crate::tenancy::service::Service;
use crate::tenancy::user::User;
use crate::web::page::Flash;

/// Session key holding the signed-in user's id.
pub const SESSION_USER: &str = "uid";
/// Session key holding the password stamp at sign-in; a password change ends other sessions.
pub const SESSION_STAMP: &str = "pws";
/// Session key holding the CSRF token.
pub const SESSION_CSRF: &str = "csrf";
/// Session key holding a one-shot flash message.
pub const SESSION_FLASH: &str = "flash";

/// The stamp compared on every request: the time of the last password change.
pub fn password_stamp(user: &User) -> String {
    user.password_changed_at
        .map(|t| t.and_utc().timestamp_micros().to_string())
        .unwrap_or_default()
}

/// Returns the session's CSRF token, creating one when missing.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_CSRF) {
        return t;
    }
    let token = crate::crypto::random_token();
    let _ = session.insert(SESSION_CSRF, &token);
    token
}

/// Anyone: the language, CSRF token, flash, organization and (if signed in) the user.
#[derive(Clone)]
pub struct Viewer {
    /// UI language.
    pub lang: Lang,
    /// CSRF token for forms.
    pub csrf: String,
    /// The signed-in, active user.
    pub user: Option<User>,
    /// The organization, once set up.
    pub org: Option<Organization>,
    /// A message carried over a redirect.
    pub flash: Option<Flash>,
    /// The request path (for `next` and the active menu).
    pub path: String,
    /// The query string.
    pub query: String,
    /// Whether htmx made the request.
    pub htmx: bool,
    /// The session.
    pub session: Session,
    /// Shared state.
    pub state: web::Data<AppState>,
}

impl Viewer {
    fn login_required(&self) -> AppError {
        let next = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        AppError::LoginRequired {
            next,
            htmx: self.htmx,
        }
    }

    async fn load(req: &HttpRequest) -> Result<Viewer, AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::Internal("app state missing".into()))?;
        let session = req.get_session();
        let user_id = session.get::<i64>(SESSION_USER).ok().flatten();
        let stamp = session
            .get::<String>(SESSION_STAMP)
            .ok()
            .flatten()
            .unwrap_or_default();
        let (org, user) = state
            .db
            .read(move |conn| {
                let org = Organization::find(conn)?;
                let user = match user_id {
                    Some(id) => User::find(conn, UserId(id))?,
                    None => None,
                };
                Ok((org, user))
            })
            .await?;
        // A deactivated user, or a session from before a password change, is signed out.
        let user = user.filter(|u| u.active && password_stamp(u) == stamp);
        if user.is_none() && user_id.is_some() {
            session.remove(SESSION_USER);
            session.remove(SESSION_STAMP);
        }
        let lang = super::negotiate_lang(req.head());
        let flash = session
            .remove_as::<Flash>(SESSION_FLASH)
            .and_then(Result::ok);
        let csrf = csrf_token(&session);
        Ok(Viewer {
            lang,
            csrf,
            user,
            org,
            flash,
            path: req.path().to_string(),
            query: req.query_string().to_string(),
            htmx: super::is_htmx(req),
            session,
            state,
        })
    }

    /// Stores a flash message for the next page.
    pub fn flash(&self, flash: Flash) {
        let _ = self.session.insert(SESSION_FLASH, flash);
    }

    /// Translates a key into the viewer's language.
    pub fn t(&self, key: &str) -> String {
        crate::i18n::t(self.lang, key)
    }
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Viewer::load(&req).await })
    }
}

/// A signed-in member, with the services they belong to (for the switcher).
#[derive(Clone)]
pub struct SignedIn {
    /// The request context.
    pub viewer: Viewer,
    /// The user.
    pub user: User,
    /// Services the user is a member of (enabled or not), ordered by name.
    pub services: Vec<(Service, Member)>,
}

impl SignedIn {
    async fn load(req: &HttpRequest) -> Result<SignedIn, AppError> {
        let viewer = Viewer::load(req).await?;
        let Some(user) = viewer.user.clone() else {
            return Err(viewer.login_required());
        };
        let uid = user.id;
        let services = viewer
            .state
            .db
            .read(move |conn| Ok(Member::services_of_user(conn, uid)?))
            .await?;
        Ok(SignedIn {
            viewer,
            user,
            services,
        })
    }
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { SignedIn::load(&req).await })
    }
}

/// An organization administrator (the `/admin/…` area).
#[derive(Clone)]
pub struct OrgAdmin(pub SignedIn);

impl FromRequest for OrgAdmin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let signed = SignedIn::load(&req).await?;
            if !signed.user.is_org_admin {
                return Err(AppError::Forbidden("error.forbidden_org_admin"));
            }
            Ok(OrgAdmin(signed))
        })
    }
}

/// A signed-in user looking at the service named by the `service_id` path segment, with their
/// membership if they have one. The service must exist (404 otherwise).
#[derive(Clone)]
pub struct ServiceAccess {
    /// The signed-in user and their services.
    pub signed: SignedIn,
    /// The service in the path.
    pub service: Service,
    /// The user's membership in it.
    pub member: Option<Member>,
    /// Menus this user is restricted from in this service.
    pub restricted_menus: Vec<Menu>,
}

impl ServiceAccess {
    async fn load(req: &HttpRequest) -> Result<ServiceAccess, AppError> {
        let signed = SignedIn::load(req).await?;
        let code = req
            .match_info()
            .get("service_id")
            .unwrap_or_default()
            .to_string();
        let uid = signed.user.id;
        let (service, restricted) = signed
            .viewer
            .state
            .db
            .read(move |conn| {
                let Some(service) = Service::find_by_code(conn, &code)? else {
                    return Err(AppError::NotFound);
                };
                let restricted =
                    crate::agents::menu_access::restricted_menus(conn, service.id, uid)?;
                Ok((service, restricted))
            })
            .await?;
        let member = signed
            .services
            .iter()
            .find(|(s, _)| s.id == service.id)
            .map(|(_, m)| m.clone());
        if member.is_some() {
            crate::tenancy::presence::touch(&signed.viewer, uid).await;
        }
        Ok(ServiceAccess {
            signed,
            service,
            member,
            restricted_menus: restricted,
        })
    }

    /// The user.
    pub fn user(&self) -> &User {
        &self.signed.user
    }

    /// The request context.
    pub fn viewer(&self) -> &Viewer {
        &self.signed.viewer
    }

    /// Whether the user is an administrator of this service.
    pub fn is_service_admin(&self) -> bool {
        self.member
            .as_ref()
            .is_some_and(|m| m.role == Role::Admin.as_str())
    }

    /// Whether the user may manage agents and groups here: service administrators and, per
    /// SPEC §1.2, organization administrators.
    pub fn can_manage_agents(&self) -> bool {
        self.is_service_admin() || self.signed.user.is_org_admin
    }

    /// Whether the user may open a console menu: a member who is not restricted from it.
    pub fn can_use_menu(&self, menu: Menu) -> bool {
        self.member.is_some() && !self.restricted_menus.contains(&menu)
    }

    /// Fails with 403 unless the user may open `menu`.
    pub fn require_menu(&self, menu: Menu) -> Result<(), AppError> {
        if self.can_use_menu(menu) {
            Ok(())
        } else {
            Err(AppError::Forbidden("error.forbidden_menu"))
        }
    }
}

macro_rules! service_extractor {
    ($(#[$meta:meta])* $name:ident, |$access:ident| $check:expr) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(pub ServiceAccess);

        impl std::ops::Deref for $name {
            type Target = ServiceAccess;
            fn deref(&self) -> &ServiceAccess {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    let $access = ServiceAccess::load(&req).await?;
                    let check: Result<(), AppError> = $check;
                    check?;
                    Ok($name($access))
                })
            }
        }
    };
}

service_extractor!(
    /// A member (any role) of an enabled service.
    ServiceMember,
    |a| {
        if a.member.is_none() {
            Err(AppError::Forbidden("error.forbidden_service"))
        } else if !a.service.enabled {
            Err(AppError::Forbidden("error.service_disabled"))
        } else {
            Ok(())
        }
    }
);

service_extractor!(
    /// An administrator of an enabled service.
    ServiceAdmin,
    |a| {
        if a.member.is_none() {
            Err(AppError::Forbidden("error.forbidden_service"))
        } else if !a.is_service_admin() {
            Err(AppError::Forbidden("error.forbidden_service_admin"))
        } else if !a.service.enabled {
            Err(AppError::Forbidden("error.service_disabled"))
        } else {
            Ok(())
        }
    }
);

service_extractor!(
    /// Someone who may manage the service's agents and groups: its administrators, or an
    /// organization administrator (even when the service is disabled).
    AgentManager,
    |a| {
        if a.signed.user.is_org_admin || (a.is_service_admin() && a.service.enabled) {
            Ok(())
        } else if a.member.is_none() {
            Err(AppError::Forbidden("error.forbidden_service"))
        } else if !a.service.enabled {
            Err(AppError::Forbidden("error.service_disabled"))
        } else {
            Err(AppError::Forbidden("error.forbidden_service_admin"))
        }
    }
);

service_extractor!(
    /// A member of an enabled service holding the view permission (`perm_view_logs`): the
    /// login history. Administrators without the flag are refused too (SPEC §1.3).
    LogViewer,
    |a| {
        match &a.member {
            None => Err(AppError::Forbidden("error.forbidden_service")),
            Some(_) if !a.service.enabled => Err(AppError::Forbidden("error.service_disabled")),
            Some(m) if !m.perm_view_logs => Err(AppError::Forbidden("error.forbidden_view_logs")),
            Some(_) => Ok(()),
        }
    }
);
