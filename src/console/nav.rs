//! The console menu. Each feature declares its entries (`NAV`: section, path, label, who sees
//! it); [`build`] collects them in the order of [`FEATURES`], keeps those the viewer may open
//! (permission, feature switch, menu access) and groups them in sections as Contiple's
//! navigation does: consultation, help center, service settings (ticket, agents, help center,
//! chat, phone, authentication, external channels), and the help-center link at the foot.
//! A section with no visible entry is left out.

use crate::i18n::{self, Lang};
use crate::web::auth::ServiceAccess;
use crate::web::page::NavItem;

/// Where an entry sits in the menu. Sections are shown in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Home and the ticket list.
    Consultation,
    /// The help-center documents.
    HelpCenter,
    /// Service settings → ticket.
    Ticket,
    /// Service settings → agents.
    Agents,
    /// Service settings → help center.
    HelpCenterSettings,
    /// Service settings → chat.
    Chat,
    /// Service settings → phone.
    Phone,
    /// Service settings → authentication.
    Authentication,
    /// Service settings → external channels.
    ExternalChannels,
    /// Links out of the console, at the foot of the menu without a heading.
    Foot,
}

impl Section {
    /// Every section, in menu order.
    pub const ALL: [Section; 10] = [
        Section::Consultation,
        Section::HelpCenter,
        Section::Ticket,
        Section::Agents,
        Section::HelpCenterSettings,
        Section::Chat,
        Section::Phone,
        Section::Authentication,
        Section::ExternalChannels,
        Section::Foot,
    ];

    /// The heading's i18n key (`None` for the foot).
    pub fn heading_key(self) -> Option<&'static str> {
        Some(match self {
            Section::Consultation => "nav.section.consultation",
            Section::HelpCenter => "nav.section.help_center",
            Section::Ticket => "nav.section.ticket",
            Section::Agents => "nav.section.agents",
            Section::HelpCenterSettings => "nav.section.help_center_settings",
            Section::Chat => "nav.section.chat",
            Section::Phone => "nav.section.phone",
            Section::Authentication => "nav.section.authentication",
            Section::ExternalChannels => "nav.section.external",
            Section::Foot => return None,
        })
    }

    /// Whether the section is a part of "Service settings".
    pub fn is_setting(self) -> bool {
        !matches!(
            self,
            Section::Consultation | Section::HelpCenter | Section::Foot
        )
    }
}

/// One entry a feature declares.
#[derive(Debug, Clone, Copy)]
pub struct NavEntry {
    /// Its section.
    pub section: Section,
    /// The path after `/{service code}/` (`console/settings/agents`).
    pub path: &'static str,
    /// The label's i18n key.
    pub label: &'static str,
    /// Active only on exactly this path (otherwise on every path below it too).
    pub exact: bool,
    /// Whether the viewer sees it: the same test as the page's own gate.
    pub visible: fn(&ServiceAccess) -> bool,
}

/// The entries of every feature, in menu order within a section.
pub const FEATURES: &[&[NavEntry]] = &[
    super::home::NAV,
    crate::tickets::console::NAV,
    crate::categories::NAV,
    crate::fields::NAV,
    crate::channels::email::NAV,
    crate::automation::NAV,
    crate::customers::NAV,
    crate::help_center::NAV,
    crate::openapi::NAV,
    crate::agents::NAV,
    crate::integrations::customer_info::NAV,
    crate::integrations::dooray::NAV,
];

/// A group of entries under one heading.
#[derive(Debug, Clone)]
pub struct NavGroup {
    /// Translated heading (empty for the foot).
    pub heading: String,
    /// The entries.
    pub items: Vec<NavItem>,
}

/// A top-level part of the menu: consultation, help center, service settings (whose groups are
/// its sub-sections) or the foot.
#[derive(Debug, Clone)]
pub struct NavPart {
    /// Translated heading (empty for the foot and for single-group parts).
    pub heading: String,
    /// Its groups; a part of one group shows that group's heading as its own.
    pub groups: Vec<NavGroup>,
}

/// The menu a viewer sees, in sections; sections without a visible entry are left out.
pub fn build(a: &ServiceAccess) -> Vec<NavPart> {
    let lang = a.viewer().lang;
    let path = a.viewer().path.as_str();
    let code = a.service.code.as_str();
    let mut parts: Vec<NavPart> = Vec::new();
    let mut settings: Vec<NavGroup> = Vec::new();
    for section in Section::ALL {
        let items = visible(a, section, code, path, lang);
        if items.is_empty() {
            continue;
        }
        let heading = section
            .heading_key()
            .map(|k| i18n::t(lang, k))
            .unwrap_or_default();
        let group = NavGroup { heading, items };
        if section.is_setting() {
            settings.push(group);
            continue;
        }
        if !settings.is_empty() {
            parts.push(NavPart {
                heading: i18n::t(lang, "nav.section.settings"),
                groups: std::mem::take(&mut settings),
            });
        }
        parts.push(NavPart {
            heading: String::new(),
            groups: vec![group],
        });
    }
    if !settings.is_empty() {
        parts.push(NavPart {
            heading: i18n::t(lang, "nav.section.settings"),
            groups: settings,
        });
    }
    parts
}

fn visible(
    a: &ServiceAccess,
    section: Section,
    code: &str,
    path: &str,
    lang: Lang,
) -> Vec<NavItem> {
    FEATURES
        .iter()
        .flat_map(|entries| entries.iter())
        .filter(|e| e.section == section && (e.visible)(a))
        .map(|e| {
            let href = format!("/{code}/{}", e.path);
            let active = if e.exact {
                path == href
            } else {
                path.starts_with(&href)
            };
            NavItem {
                label: i18n::t(lang, e.label),
                href,
                active,
            }
        })
        .collect()
}

/// The menu as one list, in order (the console home lists it).
pub fn flatten(parts: &[NavPart]) -> Vec<NavItem> {
    parts
        .iter()
        .flat_map(|p| p.groups.iter())
        .flat_map(|g| g.items.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{FEATURES, Section};

    #[test]
    fn every_section_but_the_foot_has_a_heading_and_entries_are_unique() {
        for s in Section::ALL {
            assert_eq!(s.heading_key().is_none(), s == Section::Foot);
        }
        let mut paths: Vec<&str> = FEATURES
            .iter()
            .flat_map(|f| f.iter())
            .map(|e| e.path)
            .collect();
        let n = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), n, "an entry is declared twice");
    }
}
