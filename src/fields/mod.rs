//! Ticket fields of a consultation service (SPEC §3.5): the catalogue of customer and agent
//! fields (system fields that can be edited and reset, custom fields whose codes are never
//! reused), the customer-field layout of each intake type and the agent-field layout, the one
//! validator per control type shared by the help center, the console and the Open API, and the
//! encryption and masking of personal-data values.
//!
//! What other modules call:
//! - [`layout::customer_form`] / [`layout::agent_form`]: ordered, translated fields to render;
//!   [`layout::FormDefinition::validate_all`] validates a whole submission;
//! - [`validate::validate`] with [`validate::RawValue`] → [`validate::StoredValue`] or
//!   [`validate::FieldError`] (stable `code()`, i18n `message()`, Open API `api_validate()`);
//! - [`personal::store_value`], [`personal::read_value`], [`personal::encrypt_value`],
//!   [`personal::decrypt_value`], [`personal::mask`];
//! - [`model::seed_system_fields`] when a consultation service is created.

pub mod form;
pub mod layout;
pub mod layout_pages;
pub mod model;
pub mod pages;
pub mod personal;
pub mod validate;

use actix_web::web;

pub use layout::{FormDefinition, FormField, agent_form, customer_form};
pub use model::{Audience, Control, FieldDef, SystemField, seed_system_fields};
pub use personal::{decrypt_value, encrypt_value, mask};
pub use validate::{FieldError, RawValue, StoredValue, validate};

/// Registers the field routes. Fixed segments (`new`, `layouts`, `agent-layout`) come before
/// the `{field_id}` routes they would otherwise match.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const B: &str = "/settings/fields";
    let p = |rest: &str| format!("{B}{rest}");
    cfg.route(B, web::get().to(pages::list_fields))
        .route(&p("/new"), web::get().to(pages::new_field_form))
        .route(&p("/new"), web::post().to(pages::create_field_action))
        .route(&p("/layouts"), web::get().to(layout_pages::list_layouts))
        .route(
            &p("/layouts/{scope}"),
            web::get().to(layout_pages::show_layout),
        )
        .route(
            &p("/layouts/{scope}"),
            web::post().to(layout_pages::order_layout),
        )
        .route(
            &p("/layouts/{scope}/add"),
            web::post().to(layout_pages::add_to_layout),
        )
        .route(
            &p("/layouts/{scope}/inherit"),
            web::post().to(layout_pages::inherit_layout),
        )
        .route(
            &p("/agent-layout"),
            web::get().to(layout_pages::show_agent_layout),
        )
        .route(
            &p("/agent-layout"),
            web::post().to(layout_pages::order_agent_layout),
        )
        .route(&p("/{field_id}"), web::get().to(pages::edit_field_form))
        .route(
            &p("/{field_id}"),
            web::post().to(pages::update_field_action),
        )
        .route(&p("/{field_id}/reset"), web::post().to(pages::reset_field))
        .route(
            &p("/{field_id}/delete"),
            web::get().to(pages::delete_field_form),
        )
        .route(
            &p("/{field_id}/delete"),
            web::post().to(pages::delete_field_action),
        );
}

use crate::console::nav::{NavEntry, Section};

/// The menu entry: customer and ticket fields, for administrators of consultation services.
pub const NAV: &[NavEntry] = &[NavEntry {
    section: Section::Ticket,
    path: "console/settings/fields",
    label: "field.nav",
    exact: false,
    visible: crate::tickets::console::consultation_admin,
}];
