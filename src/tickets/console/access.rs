//! Who may work in the ticket console: a member of the (enabled) service who holds the ticket
//! permission (`perm_ticket`, SPEC §1.3) — service administrators always — in a service with
//! ticket management switched on, unless the member is restricted from the tickets menu
//! (SPEC §1.4).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::db::types::Menu;
use crate::error::AppError;
use crate::tenancy::member::Member;
use crate::web::auth::{ServiceAccess, ServiceMember};

/// A service member allowed into the ticket console.
#[derive(Clone)]
pub struct TicketAgent(pub ServiceAccess);

impl std::ops::Deref for TicketAgent {
    type Target = ServiceAccess;
    fn deref(&self) -> &ServiceAccess {
        &self.0
    }
}

impl TicketAgent {
    /// The membership (always present for this extractor).
    pub fn membership(&self) -> Result<&Member, AppError> {
        self.member
            .as_ref()
            .ok_or(AppError::Forbidden("error.forbidden_service"))
    }

    /// Whether the agent may change group or assignee of tickets (the forward permission;
    /// administrators always).
    pub fn may_forward(&self) -> bool {
        self.is_service_admin() || self.member.as_ref().is_some_and(|m| m.perm_forward)
    }

    /// Decides whether a service member may use the ticket console.
    pub fn check(a: &ServiceAccess) -> Result<(), AppError> {
        let Some(m) = a.member.as_ref() else {
            return Err(AppError::Forbidden("error.forbidden_service"));
        };
        if !a.service.features().ticket {
            return Err(AppError::Forbidden("ticket.list.disabled"));
        }
        if !(m.perm_ticket || a.is_service_admin()) {
            return Err(AppError::Forbidden("ticket.list.forbidden"));
        }
        a.require_menu(Menu::Tickets)
    }
}

impl FromRequest for TicketAgent {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let member = ServiceMember::from_request(&req, &mut Payload::None).await?;
            TicketAgent::check(&member.0)?;
            Ok(TicketAgent(member.0))
        })
    }
}
