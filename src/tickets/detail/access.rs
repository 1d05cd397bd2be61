//! Who may work tickets in the console: [`TicketStaff`] — a member of an enabled service with
//! the ticket feature, holding the ticket permission (administrators always), and not
//! restricted from the Ticket Management menu (SPEC §1.3, §1.4).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::db::types::Menu;
use crate::error::AppError;
use crate::tenancy::member::Member;
use crate::tenancy::service::Service;
use crate::web::{ServiceAccess, ServiceMember};

/// A member who may work the service's tickets.
#[derive(Clone)]
pub struct TicketStaff(pub ServiceMember);

impl std::ops::Deref for TicketStaff {
    type Target = ServiceAccess;
    fn deref(&self) -> &ServiceAccess {
        &self.0
    }
}

/// What domain code needs to know about the viewer (sendable to the database threads).
#[derive(Debug, Clone)]
pub struct StaffInfo {
    /// The service.
    pub service: Service,
    /// The viewer.
    pub user_id: i64,
    /// Whether the viewer administers the service.
    pub is_admin: bool,
    /// Whether the viewer may forward tickets.
    pub can_forward: bool,
}

impl TicketStaff {
    /// The viewer as plain data.
    pub fn info(&self) -> StaffInfo {
        StaffInfo {
            service: self.service.clone(),
            user_id: self.user().id,
            is_admin: self.is_service_admin(),
            can_forward: self.can_forward(),
        }
    }

    /// The membership (always present for this extractor).
    pub fn membership(&self) -> Option<&Member> {
        self.member.as_ref()
    }

    /// Whether the member may forward tickets (the forward permission; administrators too).
    pub fn can_forward(&self) -> bool {
        self.is_service_admin() || self.membership().is_some_and(|m| m.perm_forward)
    }

    /// Whether a service member may work tickets (open, process and create them): the
    /// ticket feature, the ticket permission (administrators always) and the Tickets menu.
    pub fn admits(m: &ServiceAccess) -> Result<(), AppError> {
        if !m.service.features().ticket {
            return Err(AppError::Forbidden("ticket.detail.feature_off"));
        }
        let allowed = m.is_service_admin() || m.member.as_ref().is_some_and(|x| x.perm_ticket);
        if !allowed {
            return Err(AppError::Forbidden("ticket.detail.forbidden_perm"));
        }
        m.require_menu(Menu::Tickets)
    }

    /// Fails with 403 unless the member administers the service.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_service_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("error.forbidden_service_admin"))
        }
    }
}

impl FromRequest for TicketStaff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let m = ServiceMember::from_request(&req, &mut Payload::None).await?;
            TicketStaff::admits(&m)?;
            Ok(TicketStaff(m))
        })
    }
}
