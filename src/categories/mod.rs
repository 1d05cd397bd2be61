//! Category trees (SPEC §3.3, §3.2, §4.2): one tree component used four times — intake types
//! and resolution types (5 levels), FAQ categories and chat resolution types (3 levels) — under
//! `/{service_id}/console/settings/categories/{tree}` for service administrators. Names per
//! help-center language, unique among siblings; children only under an existing parent above
//! the last level; deletion of whole subtrees after a confirmation that counts them; ordering by
//! drag and drop or up/down buttons; the intake types' help-center switch; Excel export.
//!
//! Other modules read trees through [`model`]: [`model::list_tree`], [`model::children_of`],
//! [`model::find`], [`model::path_names`], [`model::helpcenter_nodes`], or a [`model::Tree`]
//! loaded once when many lookups are needed.

pub mod export;
pub mod model;
pub mod page;

use actix_web::web;

pub use model::{
    Node, Tree, children_of, find, helpcenter_nodes, list_tree, max_depth, path_names,
};

/// Registers the category routes. Fixed segments (`order`, `export.xlsx`) come before the
/// `{id}` routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const S: &str = "/settings/categories";
    let p = |rest: &str| format!("{S}{rest}");
    cfg.route(S, web::get().to(page::categories_home))
        .route(&p("/{tree}"), web::get().to(page::show_tree))
        .route(&p("/{tree}"), web::post().to(page::create_category))
        .route(&p("/{tree}/order"), web::post().to(page::order_categories))
        .route(&p("/{tree}/export.xlsx"), web::get().to(page::export_tree))
        .route(&p("/{tree}/{id}"), web::post().to(page::rename_category))
        .route(&p("/{tree}/{id}/node"), web::get().to(page::show_node))
        .route(&p("/{tree}/{id}/edit"), web::get().to(page::edit_category))
        .route(&p("/{tree}/{id}/add"), web::get().to(page::add_child_form))
        .route(
            &p("/{tree}/{id}/helpcenter"),
            web::post().to(page::set_helpcenter),
        )
        .route(
            &p("/{tree}/{id}/delete"),
            web::get().to(page::confirm_delete),
        )
        .route(
            &p("/{tree}/{id}/delete"),
            web::post().to(page::delete_category),
        );
}

use crate::console::nav::{NavEntry, Section};
use crate::db::types::CategoryTree;

fn tree_visible(a: &crate::web::auth::ServiceAccess, tree: CategoryTree) -> bool {
    a.is_service_admin() && page::available_trees(&a.service).contains(&tree)
}

/// The menu entries: one per tree the service uses, for service administrators.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/categories/intake",
        label: "category.title.intake",
        exact: false,
        visible: |a| tree_visible(a, CategoryTree::Intake),
    },
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/categories/resolution",
        label: "category.title.resolution",
        exact: false,
        visible: |a| tree_visible(a, CategoryTree::Resolution),
    },
    NavEntry {
        section: Section::HelpCenterSettings,
        path: "console/settings/categories/faq",
        label: "category.title.faq",
        exact: false,
        visible: |a| tree_visible(a, CategoryTree::Faq),
    },
    NavEntry {
        section: Section::Chat,
        path: "console/settings/categories/chat_resolution",
        label: "category.title.chat_resolution",
        exact: false,
        visible: |a| tree_visible(a, CategoryTree::ChatResolution),
    },
];
