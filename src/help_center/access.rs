//! Who may open the help-center back office (`/{service_id}/console/help-center/…`):
//! [`HcStaff`] — a member of an enabled consultation service who is not restricted from the
//! Help Center menu (agents write drafts); [`HcAdmin`] — the same, and an administrator of the
//! service (publishing, headings, tags, templates and configuration, SPEC §1.3).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::db::types::{Menu, ServiceKind};
use crate::error::AppError;
use crate::tenancy::service::Features;
use crate::web::{ServiceAccess, ServiceMember};

/// A help-center module of the back office, gated by the service's feature switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// FAQ documents.
    Faq,
    /// Notices.
    Notice,
}

impl Module {
    /// Whether the service's contract includes the module.
    pub fn enabled(self, f: &Features) -> bool {
        match self {
            Module::Faq => f.faq,
            Module::Notice => f.notice,
        }
    }
}

async fn staff(req: &HttpRequest) -> Result<ServiceMember, AppError> {
    let m = ServiceMember::from_request(req, &mut Payload::None).await?;
    if m.service.kind() != ServiceKind::Consultation {
        return Err(AppError::NotFound);
    }
    m.require_menu(Menu::HelpCenter)?;
    Ok(m)
}

/// A member who may use the help-center back office.
#[derive(Clone)]
pub struct HcStaff(pub ServiceMember);

impl std::ops::Deref for HcStaff {
    type Target = ServiceAccess;
    fn deref(&self) -> &ServiceAccess {
        &self.0
    }
}

impl HcStaff {
    /// Fails with 403 unless the service has the module.
    pub fn require(&self, module: Module) -> Result<(), AppError> {
        if module.enabled(&self.service.features()) {
            Ok(())
        } else {
            Err(AppError::Forbidden("hc.error.module_off"))
        }
    }
}

impl FromRequest for HcStaff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(HcStaff(staff(&req).await?)) })
    }
}

/// An administrator of the service who may use the help-center back office.
#[derive(Clone)]
pub struct HcAdmin(pub HcStaff);

impl std::ops::Deref for HcAdmin {
    type Target = HcStaff;
    fn deref(&self) -> &HcStaff {
        &self.0
    }
}

impl FromRequest for HcAdmin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let m = staff(&req).await?;
            if !m.is_service_admin() {
                return Err(AppError::Forbidden("error.forbidden_service_admin"));
            }
            Ok(HcAdmin(HcStaff(m)))
        })
    }
}

/// `/{service}/console/help-center`
pub fn base(code: &str) -> String {
    format!("/{code}/console/help-center")
}
