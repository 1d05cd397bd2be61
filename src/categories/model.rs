//! The category tree model: nodes with a name per help-center language, loaded a whole tree at
//! a time (one query, built in memory, so callers never walk a tree with a query per level),
//! and the changes an administrator makes — add, rename, reorder, switch the help center on or
//! off, delete a subtree — each validated and written inside the caller's transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agents::form::{merge_order, move_one};
use crate::common::validation::{Report, Violations};
use crate::db::schema::categories;
use crate::db::types::CategoryTree;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::service::Service;

/// Longest category name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 50;

/// Most nodes one tree may hold. Trees are loaded whole; this keeps them cheap to load, render
/// and export (Contiple's own trees are a few hundred nodes at most).
pub const MAX_NODES: usize = 1000;

/// How many levels a tree may have: intake and resolution types 5 (SPEC §3.3), FAQ categories
/// and chat resolution types 3 (SPEC §4.2, §3.2).
pub fn max_depth(tree: CategoryTree) -> i32 {
    match tree {
        CategoryTree::Intake | CategoryTree::Resolution => 5,
        CategoryTree::Faq | CategoryTree::ChatResolution => 3,
    }
}

/// The form field that carries a node's name in one language (`name_en`, `name_ko`, …).
pub fn name_field(lang: Lang) -> String {
    format!("name_{}", lang.code())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
struct CategoryRow {
    id: i64,
    service_id: i64,
    tree: String,
    parent_id: Option<i64>,
    level: i32,
    position: i32,
    names: String,
    helpcenter_enabled: bool,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// One category of a tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// The category ID (shown to administrators, used in the API and in triggers).
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Which tree.
    pub tree: CategoryTree,
    /// Parent category; `None` at level 1.
    pub parent_id: Option<i64>,
    /// Depth, 1 for top-level categories.
    pub level: i32,
    /// Order among siblings (ascending).
    pub position: i32,
    /// Names by language code; a language without a name is absent.
    pub names: BTreeMap<String, String>,
    /// Intake types: offered in the help center as well as the console (`false`: console only).
    pub helpcenter_enabled: bool,
    /// Whether the category is in use (all categories are active until deactivation exists).
    pub active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

impl Node {
    fn from_row(row: CategoryRow) -> Node {
        let names: BTreeMap<String, String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&row.names)
                .map(|m| {
                    m.into_iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                        .filter(|(_, v)| !v.trim().is_empty())
                        .collect()
                })
                .unwrap_or_default();
        Node {
            id: row.id,
            service_id: row.service_id,
            tree: CategoryTree::parse(&row.tree).unwrap_or(CategoryTree::Intake),
            parent_id: row.parent_id,
            level: row.level,
            position: row.position,
            names,
            helpcenter_enabled: row.helpcenter_enabled,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// The name in one language, if it has one.
    pub fn name(&self, lang: Lang) -> Option<&str> {
        self.names.get(lang.code()).map(String::as_str)
    }

    /// The name to show in `lang`: that language's name, else the default language's, else any.
    pub fn display_name(&self, lang: Lang, default: Lang) -> &str {
        self.name(lang)
            .or_else(|| self.name(default))
            .or_else(|| self.names.values().next().map(String::as_str))
            .unwrap_or("")
    }
}

/// A whole tree of one service, in memory: nodes in depth-first order (siblings by position,
/// then id), with lookups by id and by parent.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: Vec<Node>,
    index: HashMap<i64, usize>,
    children: HashMap<Option<i64>, Vec<usize>>,
    depth: Vec<i32>,
}

impl Tree {
    /// Loads a tree with one query.
    pub fn load(conn: &mut DbConn, service_id: i64, tree: CategoryTree) -> QueryResult<Tree> {
        let rows: Vec<CategoryRow> = categories::table
            .filter(categories::service_id.eq(service_id))
            .filter(categories::tree.eq(tree.as_str()))
            .order((categories::position.asc(), categories::id.asc()))
            .select(CategoryRow::as_select())
            .load(conn)?;
        Ok(Tree::from_nodes(
            rows.into_iter().map(Node::from_row).collect(),
        ))
    }

    /// Builds the depth-first order from nodes in any order. Nodes whose parent is missing (or
    /// that would form a cycle) are left out: they cannot be reached from a top-level node.
    pub fn from_nodes(mut nodes: Vec<Node>) -> Tree {
        nodes.sort_by_key(|n| (n.position, n.id));
        let ids: HashSet<i64> = nodes.iter().map(|n| n.id).collect();
        let mut by_parent: HashMap<Option<i64>, Vec<Node>> = HashMap::new();
        for n in nodes {
            let parent = n.parent_id.filter(|p| ids.contains(p));
            if n.parent_id.is_some() && parent.is_none() {
                continue;
            }
            by_parent.entry(parent).or_default().push(n);
        }
        let mut out = Tree::default();
        // Depth-first with an explicit stack: (parent key, depth).
        let mut stack: Vec<(Node, i32)> = by_parent
            .remove(&None)
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|n| (n, 1))
            .collect();
        while let Some((node, depth)) = stack.pop() {
            if out.index.contains_key(&node.id) {
                continue;
            }
            let at = out.nodes.len();
            out.index.insert(node.id, at);
            out.children.entry(node.parent_id).or_default().push(at);
            if let Some(kids) = by_parent.remove(&Some(node.id)) {
                for kid in kids.into_iter().rev() {
                    stack.push((kid, depth + 1));
                }
            }
            out.nodes.push(node);
            out.depth.push(depth);
        }
        out
    }

    /// Every node, depth-first, siblings in order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A node by id.
    pub fn get(&self, id: i64) -> Option<&Node> {
        self.index.get(&id).map(|i| &self.nodes[*i])
    }

    /// The depth of a node as the tree is built (1 for top level).
    pub fn depth(&self, id: i64) -> Option<i32> {
        self.index.get(&id).map(|i| self.depth[*i])
    }

    /// The children of a node (`None`: the top-level nodes), in order.
    pub fn children(&self, parent: Option<i64>) -> Vec<&Node> {
        self.children
            .get(&parent)
            .map(|v| v.iter().map(|i| &self.nodes[*i]).collect())
            .unwrap_or_default()
    }

    /// The nodes from the top level down to `id` itself; empty when `id` is not in the tree.
    pub fn path(&self, id: i64) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut cur = self.get(id);
        while let Some(n) = cur {
            out.push(n);
            if out.len() > self.nodes.len() {
                break;
            }
            cur = n.parent_id.and_then(|p| self.get(p));
        }
        out.reverse();
        out
    }

    /// The names along [`Tree::path`] in `lang` (falling back to the default language).
    pub fn path_names(&self, id: i64, lang: Lang, default: Lang) -> Vec<String> {
        self.path(id)
            .iter()
            .map(|n| n.display_name(lang, default).to_string())
            .collect()
    }

    /// A node and all its descendants, depth-first; empty when `id` is not in the tree.
    pub fn subtree(&self, id: i64) -> &[Node] {
        let Some(&start) = self.index.get(&id) else {
            return &[];
        };
        let base = self.depth[start];
        let end = (start + 1..self.nodes.len())
            .find(|i| self.depth[*i] <= base)
            .unwrap_or(self.nodes.len());
        &self.nodes[start..end]
    }

    /// Whether an intake node is offered in the help center: it and every ancestor are active
    /// and have the help-center switch on.
    pub fn in_helpcenter(&self, id: i64) -> bool {
        let path = self.path(id);
        !path.is_empty() && path.iter().all(|n| n.active && n.helpcenter_enabled)
    }
}

/// A whole tree, depth-first, siblings by position.
pub fn list_tree(conn: &mut DbConn, service_id: i64, tree: CategoryTree) -> QueryResult<Vec<Node>> {
    Ok(Tree::load(conn, service_id, tree)?.nodes)
}

/// The children of `parent` (`None`: the top-level categories), in order.
pub fn children_of(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    parent: Option<i64>,
) -> QueryResult<Vec<Node>> {
    let query = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(tree.as_str()))
        .order((categories::position.asc(), categories::id.asc()))
        .select(CategoryRow::as_select())
        .into_boxed();
    let query = match parent {
        Some(p) => query.filter(categories::parent_id.eq(p)),
        None => query.filter(categories::parent_id.is_null()),
    };
    Ok(query.load(conn)?.into_iter().map(Node::from_row).collect())
}

/// One category of a service's tree.
pub fn find(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    id: i64,
) -> QueryResult<Option<Node>> {
    Ok(categories::table
        .filter(categories::id.eq(id))
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(tree.as_str()))
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?
        .map(Node::from_row))
}

/// The names from the top level down to category `id` in `lang` (falling back to the default
/// language), e.g. `["Orders", "Refunds"]`; `None` when the category is not in the tree. Callers
/// naming many categories of one tree load a [`Tree`] once and use [`Tree::path_names`].
pub fn path_names(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    id: i64,
    lang: Lang,
    default: Lang,
) -> QueryResult<Option<Vec<String>>> {
    let t = Tree::load(conn, service_id, tree)?;
    Ok(t.get(id).map(|_| t.path_names(id, lang, default)))
}

/// The intake types the help center offers (SPEC §3.3): active nodes with the help-center
/// switch on whose ancestors are all active and switched on, depth-first. A node switched off
/// hides its whole subtree from customers, whatever the children's own switches say.
pub fn helpcenter_nodes(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Node>> {
    let t = Tree::load(conn, service_id, CategoryTree::Intake)?;
    // Depth-first order means a parent is decided before its children.
    let mut visible: HashSet<i64> = HashSet::new();
    let mut out = Vec::new();
    for n in t.nodes() {
        let parent_ok = n.parent_id.is_none_or(|p| visible.contains(&p));
        if parent_ok && n.active && n.helpcenter_enabled {
            visible.insert(n.id);
            out.push(n.clone());
        }
    }
    Ok(out)
}

/// The languages a service names its categories in: the default first, then the others in the
/// service's order.
pub fn name_languages(service: &Service) -> (Lang, Vec<Lang>) {
    let mut langs = service.languages();
    let default = Lang::parse(&service.default_lang)
        .or_else(|| langs.first().copied())
        .unwrap_or_default();
    langs.retain(|l| *l != default);
    langs.insert(0, default);
    (default, langs)
}

/// Submitted names, one per service language (empty when not given).
#[derive(Debug, Clone, Default)]
pub struct NamesInput {
    /// `(language, raw text)` for each of the service's languages, default first.
    pub names: Vec<(Lang, String)>,
}

impl NamesInput {
    /// Reads `name_<lang>` for each language from a lookup.
    pub fn from_lookup<'a>(langs: &[Lang], get: impl Fn(&str) -> &'a str) -> NamesInput {
        NamesInput {
            names: langs
                .iter()
                .map(|l| (*l, get(&name_field(*l)).to_string()))
                .collect(),
        }
    }

    /// The trimmed, non-empty names.
    fn cleaned(&self) -> Vec<(Lang, String)> {
        self.names
            .iter()
            .map(|(l, v)| (*l, v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

/// Checks names for a node under `parent` (`except`: the node being renamed): the default
/// language's name is required, every name is 1–50 characters without control characters, and
/// no sibling has the same name in the same language (ignoring case). Messages go to
/// `name_<lang>`.
pub fn validate_names(
    tree: &Tree,
    errors: &mut dyn Report,
    default: Lang,
    input: &NamesInput,
    parent: Option<i64>,
    except: Option<i64>,
) {
    let siblings: Vec<&Node> = tree
        .children(parent)
        .into_iter()
        .filter(|n| Some(n.id) != except)
        .collect();
    for (lang, raw) in &input.names {
        let field = name_field(*lang);
        let name = raw.trim();
        if name.is_empty() {
            if *lang == default {
                errors.add(&field, "validation.required");
            }
            continue;
        }
        if name.chars().count() > MAX_NAME_CHARS {
            errors.add_with(
                &field,
                "validation.too_long",
                &[("max", &MAX_NAME_CHARS.to_string())],
            );
            continue;
        }
        if name.chars().any(char::is_control) {
            errors.add(&field, "category.name_invalid");
            continue;
        }
        let lower = name.to_lowercase();
        if siblings.iter().any(|s| {
            s.name(*lang)
                .is_some_and(|n| n.trim().to_lowercase() == lower)
        }) {
            errors.add(&field, "category.name_taken");
        }
    }
}

fn names_json(names: &BTreeMap<String, String>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn position_of(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

/// Adds a category under `parent` (`None`: at the top level), at the end of its siblings, with
/// the help-center switch on. Validates first: the parent must be a node of the same service and
/// tree (`parent_id`: `category.parent_missing`), above the tree's last level
/// (`category.too_deep`), the tree must have room ([`MAX_NODES`]), and the names must pass
/// [`validate_names`]. Returns the new id, or the messages.
pub fn add_node(
    conn: &mut DbConn,
    service: &Service,
    tree: CategoryTree,
    parent: Option<i64>,
    input: &NamesInput,
) -> Result<Result<i64, Violations>, AppError> {
    crate::db::dispatch::lock_service(conn, service.id)?;
    let t = Tree::load(conn, service.id, tree)?;
    let mut errors = Violations::new();
    let (default, _) = name_languages(service);
    let level = match parent {
        None => 1,
        Some(p) => match t.depth(p) {
            None => {
                errors.add("parent_id", "category.parent_missing");
                return Ok(Err(errors));
            }
            Some(d) if d >= max_depth(tree) => {
                errors.add_with(
                    "parent_id",
                    "category.too_deep",
                    &[("max", &max_depth(tree).to_string())],
                );
                return Ok(Err(errors));
            }
            Some(d) => d + 1,
        },
    };
    if t.len() >= MAX_NODES {
        errors.add_with(
            "parent_id",
            "category.too_many",
            &[("max", &MAX_NODES.to_string())],
        );
        return Ok(Err(errors));
    }
    validate_names(&t, &mut errors, default, input, parent, None);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let names: BTreeMap<String, String> = input
        .cleaned()
        .into_iter()
        .map(|(l, v)| (l.code().to_string(), v))
        .collect();
    let position = t
        .children(parent)
        .iter()
        .map(|n| n.position)
        .max()
        .map_or(0, |p| p.saturating_add(1));
    let ts = now();
    let id: i64 = diesel::insert_into(categories::table)
        .values((
            categories::service_id.eq(service.id),
            categories::tree.eq(tree.as_str()),
            categories::parent_id.eq(parent),
            categories::level.eq(level),
            categories::position.eq(position),
            categories::names.eq(names_json(&names)),
            categories::helpcenter_enabled.eq(true),
            categories::active.eq(true),
            categories::created_at.eq(ts),
            categories::updated_at.eq(ts),
        ))
        .returning(categories::id)
        .get_result(conn)?;
    Ok(Ok(id))
}

/// Renames a category: the submitted languages are replaced (an empty optional name removes
/// that language's name); names in languages the service no longer offers are kept, so turning
/// a language back on brings them back. `AppError::NotFound` when the node is not in the tree.
pub fn rename_node(
    conn: &mut DbConn,
    service: &Service,
    tree: CategoryTree,
    id: i64,
    input: &NamesInput,
) -> Result<Result<(), Violations>, AppError> {
    crate::db::dispatch::lock_service(conn, service.id)?;
    let t = Tree::load(conn, service.id, tree)?;
    let node = t.get(id).ok_or(AppError::NotFound)?;
    let mut errors = Violations::new();
    let (default, _) = name_languages(service);
    validate_names(&t, &mut errors, default, input, node.parent_id, Some(id));
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut names = node.names.clone();
    for (lang, raw) in &input.names {
        let v = raw.trim();
        if v.is_empty() {
            names.remove(lang.code());
        } else {
            names.insert(lang.code().to_string(), v.to_string());
        }
    }
    diesel::update(categories::table.find(id))
        .set((
            categories::names.eq(names_json(&names)),
            categories::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(Ok(()))
}

/// Switches an intake type's help-center display (ON: help center and console; OFF: console
/// only). Its descendants keep their own switches but are hidden from customers while it is off.
/// `AppError::NotFound` for other trees or unknown nodes.
pub fn set_helpcenter(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    id: i64,
    on: bool,
) -> Result<(), AppError> {
    if tree != CategoryTree::Intake {
        return Err(AppError::NotFound);
    }
    find(conn, service_id, tree, id)?.ok_or(AppError::NotFound)?;
    diesel::update(categories::table.find(id))
        .set((
            categories::helpcenter_enabled.eq(on),
            categories::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What [`delete_node`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The category and its subtree are gone.
    Deleted {
        /// How many categories were deleted (the node and its descendants).
        count: usize,
        /// The deleted node's parent.
        parent_id: Option<i64>,
    },
    /// The subtree no longer has the expected size; nothing was deleted.
    Changed,
}

/// Deletes a category with its whole subtree. `expected`, when given, is the count the
/// administrator confirmed; if the subtree has changed size since, nothing is deleted.
/// `AppError::NotFound` when the node is not in the tree.
///
/// Records that point at categories (tickets, FAQ articles, chat records, IVR routes, trigger
/// conditions) arrive with later modules; each of them must decide, in this same transaction,
/// what happens to its references before the rows go (keep a copy of the path, clear the link,
/// or refuse the deletion). Until then nothing refers to a category.
pub fn delete_node(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    id: i64,
    expected: Option<usize>,
) -> Result<DeleteOutcome, AppError> {
    crate::db::dispatch::lock_service(conn, service_id)?;
    let t = Tree::load(conn, service_id, tree)?;
    let parent_id = t.get(id).ok_or(AppError::NotFound)?.parent_id;
    let ids: Vec<i64> = t.subtree(id).iter().map(|n| n.id).collect();
    if expected.is_some_and(|e| e != ids.len()) {
        return Ok(DeleteOutcome::Changed);
    }
    // The whole set goes in one statement. The foreign key would cascade from the node alone,
    // but SQLite applies the cascade row by row, so the affected-row count is not the number of
    // categories removed; the subtree's size is.
    diesel::delete(
        categories::table
            .filter(categories::service_id.eq(service_id))
            .filter(categories::id.eq_any(&ids)),
    )
    .execute(conn)?;
    Ok(DeleteOutcome::Deleted {
        count: ids.len(),
        parent_id,
    })
}

/// Stores the order among siblings. `submitted` lists ids depth-first as the page shows them
/// after a drag (each sibling list keeps the order its ids appear in; ids of other services or
/// trees are ignored, siblings missing from the list keep their place after the listed ones);
/// `step` moves one node a place up (`true`) or down among its siblings (the no-JavaScript
/// buttons). Only changed positions are written.
pub fn reorder(
    conn: &mut DbConn,
    service_id: i64,
    tree: CategoryTree,
    submitted: &[i64],
    step: Option<(i64, bool)>,
) -> Result<(), AppError> {
    crate::db::dispatch::lock_service(conn, service_id)?;
    let t = Tree::load(conn, service_id, tree)?;
    let mut parents: Vec<Option<i64>> = vec![None];
    parents.extend(t.nodes().iter().map(|n| Some(n.id)));
    for parent in parents {
        let kids = t.children(parent);
        if kids.is_empty() {
            continue;
        }
        let current: Vec<i64> = kids.iter().map(|n| n.id).collect();
        let mut order = merge_order(&current, submitted);
        if let Some((id, up)) = step
            && current.contains(&id)
        {
            move_one(&mut order, id, up);
        }
        for (i, id) in order.iter().enumerate() {
            let pos = position_of(i);
            if t.get(*id).is_some_and(|n| n.position != pos) {
                diesel::update(categories::table.find(*id))
                    .set(categories::position.eq(pos))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, parent: Option<i64>, position: i32, name: &str) -> Node {
        let t = chrono::DateTime::from_timestamp(0, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default();
        Node {
            id,
            service_id: 1,
            tree: CategoryTree::Intake,
            parent_id: parent,
            level: 1,
            position,
            names: [("en".to_string(), name.to_string())].into_iter().collect(),
            helpcenter_enabled: true,
            active: true,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn depth_first_by_position_with_subtrees_and_paths() {
        let t = Tree::from_nodes(vec![
            node(5, Some(1), 0, "b1"),
            node(1, None, 1, "b"),
            node(2, None, 0, "a"),
            node(3, Some(2), 1, "a2"),
            node(4, Some(2), 0, "a1"),
            node(6, Some(4), 0, "a1x"),
            node(9, Some(99), 0, "orphan"),
        ]);
        let ids: Vec<i64> = t.nodes().iter().map(|n| n.id).collect();
        assert_eq!(ids, [2, 4, 6, 3, 1, 5]);
        assert_eq!(t.depth(6), Some(3));
        let sub: Vec<i64> = t.subtree(2).iter().map(|n| n.id).collect();
        assert_eq!(sub, [2, 4, 6, 3]);
        assert_eq!(t.subtree(3).len(), 1);
        assert!(t.subtree(99).is_empty());
        assert_eq!(t.path_names(6, Lang::Ko, Lang::En), ["a", "a1", "a1x"]);
        let kids: Vec<i64> = t.children(Some(2)).iter().map(|n| n.id).collect();
        assert_eq!(kids, [4, 3]);
    }

    #[test]
    fn names_must_be_unique_among_siblings_only() {
        let t = Tree::from_nodes(vec![
            node(1, None, 0, "Orders"),
            node(2, Some(1), 0, "Refund"),
            node(3, None, 1, "Billing"),
        ]);
        let input = |s: &str| NamesInput {
            names: vec![(Lang::En, s.to_string()), (Lang::Ko, String::new())],
        };
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input(" orders "), None, None);
        assert!(e.has("name_en"));
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input("Refund"), Some(3), None);
        assert!(e.is_empty(), "same name under another parent");
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input("Orders"), None, Some(1));
        assert!(e.is_empty(), "a node keeps its own name");
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input(""), None, None);
        assert!(e.has("name_en") && !e.has("name_ko"));
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input(&"x".repeat(51)), None, None);
        assert!(e.has("name_en"));
        let mut e = Violations::new();
        validate_names(&t, &mut e, Lang::En, &input(&"가".repeat(50)), None, None);
        assert!(e.is_empty());
    }
}
