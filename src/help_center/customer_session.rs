//! Who a help-center visitor is, per service (SPEC §4.1, §11.4–11.5): a customer who opened
//! the inquiry-history link mailed to them (identified by e-mail), or a member signed in
//! through member integration (identified by the service's user code, optionally with an
//! e-mail). The identity lives in the encrypted cookie session under one key per service,
//! with an expiry, so being signed in to one service's help center says nothing about another.

use actix_session::Session;
use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::db::now;

/// How long a help-center identity lasts without a new sign-in.
pub const LIFETIME: TimeDelta = TimeDelta::hours(24);

/// A help-center visitor's identity in one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HcIdentity {
    /// The service's internal key.
    pub service_id: i64,
    /// The customer's e-mail (normalised), when known.
    pub email: Option<String>,
    /// The member's user code (member integration), when signed in as a member.
    pub usercode: Option<String>,
    /// The member's display name, when known.
    pub name: Option<String>,
    /// When the identity stops being valid.
    pub expires_at: NaiveDateTime,
}

impl HcIdentity {
    /// An identity proven by the e-mailed history link.
    pub fn by_email(service_id: i64, email: &str) -> HcIdentity {
        HcIdentity {
            service_id,
            email: Some(crate::customers::normalize_email(email)),
            usercode: None,
            name: None,
            expires_at: now() + LIFETIME,
        }
    }

    /// Whether this is a member (member integration) rather than an e-mail-link visitor.
    pub fn is_member(&self) -> bool {
        self.usercode.is_some()
    }
}

fn key(service_id: i64) -> String {
    format!("hc_identity_{service_id}")
}

/// The visitor's current identity in the service, if any and not expired.
pub fn current(session: &Session, service_id: i64) -> Option<HcIdentity> {
    let id = session.get::<HcIdentity>(&key(service_id)).ok().flatten()?;
    if id.service_id != service_id || id.expires_at <= now() {
        session.remove(&key(service_id));
        return None;
    }
    Some(id)
}

/// Signs the visitor in to the service's help center (replacing any earlier identity there).
pub fn sign_in(session: &Session, identity: &HcIdentity) {
    if let Err(e) = session.insert(key(identity.service_id), identity) {
        tracing::error!(error = %e, "help-center identity not stored in the session");
    }
}

/// Signs the visitor out of the service's help center.
pub fn sign_out(session: &Session, service_id: i64) {
    session.remove(&key(service_id));
}
