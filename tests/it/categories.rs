//! Category trees: the four trees' pages and actions, as plain forms and as htmx requests, the
//! rules (sibling uniqueness per language, depth limits, subtree deletion), ordering, the
//! help-center switch, the Excel export, the domain functions other modules use, the denials,
//! and in-place renaming in a real browser.

use std::io::Read;

use diesel::prelude::*;
use opencontact::categories::{self, Node};
use opencontact::db::schema::{categories as cat_table, services};
use opencontact::db::types::{CategoryTree, EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};

use crate::support::{Client, Resp, TestApp};

const BASE: &str = "/demo/console/settings/categories";
const INTAKE: &str = "/demo/console/settings/categories/intake";
const RESOLUTION: &str = "/demo/console/settings/categories/resolution";

fn tree_url(tree: CategoryTree) -> String {
    format!("{BASE}/{}", tree.as_str())
}

fn nodes(app: &TestApp, service_id: i64, tree: CategoryTree) -> Vec<Node> {
    app.db(|c| categories::list_tree(c, service_id, tree))
}

/// Ids of a tree's nodes named `name` in English, depth-first.
fn ids_named(app: &TestApp, service_id: i64, tree: CategoryTree, name: &str) -> Vec<i64> {
    nodes(app, service_id, tree)
        .into_iter()
        .filter(|n| n.name(Lang::En) == Some(name))
        .map(|n| n.id)
        .collect()
}

fn id_of(app: &TestApp, service_id: i64, tree: CategoryTree, name: &str) -> i64 {
    let ids = ids_named(app, service_id, tree, name);
    assert_eq!(ids.len(), 1, "exactly one {name:?} in {tree}");
    ids[0]
}

/// Names in depth-first order with their depth, e.g. `["1 Orders", "2 Refund"]`.
fn outline(app: &TestApp, service_id: i64, tree: CategoryTree) -> Vec<String> {
    let t = app.db(|c| categories::Tree::load(c, service_id, tree));
    t.nodes()
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                t.depth(n.id).unwrap(),
                n.display_name(Lang::En, Lang::En)
            )
        })
        .collect()
}

fn set_languages(app: &TestApp, service_id: i64, langs: &str, default: &str) {
    let (langs, default) = (langs.to_string(), default.to_string());
    app.db(|c| {
        diesel::update(services::table.find(service_id))
            .set((
                services::languages.eq(langs),
                services::default_lang.eq(default),
            ))
            .execute(c)
    });
}

fn create_service(app: &TestApp, code: &str) -> i64 {
    let new = NewService {
        code: code.into(),
        kind: ServiceKind::Consultation,
        name: format!("{code} service"),
        languages: vec![Lang::En],
        default_lang: Lang::En,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    app.state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap()
}

/// An htmx POST: `HX-Request` and the CSRF token in the header, as htmx sends them.
async fn hx_post(c: &Client, path: &str, fields: &[(&str, &str)]) -> Resp {
    let token = c.csrf().await;
    c.post_form_raw(
        path,
        fields,
        &[("HX-Request", "true"), ("X-CSRF-Token", &token)],
    )
    .await
}

async fn hx_get(c: &Client, path: &str) -> Resp {
    c.get_with(path, &[("HX-Request", "true")]).await
}

/// Adds a category with an English name through the plain form; asserts success.
async fn add(c: &Client, tree: CategoryTree, parent: Option<i64>, name: &str) {
    let parent = parent.map(|p| p.to_string()).unwrap_or_default();
    let r = c
        .post_form(
            &tree_url(tree),
            &[("parent_id", &parent), ("name_en", name)],
        )
        .await;
    assert_eq!(r.status, 303, "adding {name:?}: {}", r.text);
}

fn is_fragment(r: &Resp) -> bool {
    !r.text.contains("<html") && !r.text.contains("class=\"sidebar\"")
}

#[actix_web::test]
async fn an_admin_builds_a_tree_with_plain_forms() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let admin = app.login("admin").await;

    // The menu lists the trees the service uses (chat is off by default).
    let page = admin.get(INTAKE).await;
    assert_eq!(page.status, 200);
    let menu = page.texts(".sidebar a");
    for label in ["Intake types", "Resolution types", "FAQ categories"] {
        assert!(menu.iter().any(|m| m == label), "{label} in {menu:?}");
    }
    assert!(!menu.iter().any(|m| m == "Chat resolution types"));
    assert_eq!(page.texts(".sidebar a.active"), ["Intake types"]);
    assert_eq!(page.texts("h1"), ["Intake types"]);
    // A new CM service starts with "General inquiry"; its ID is shown with a copy button.
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    assert_eq!(page.texts("span.cat-name"), ["General inquiry"]);
    assert_eq!(
        page.texts(&format!("#cat-id-{general}")),
        [general.to_string()]
    );
    assert!(page.has(&format!("button[data-copy=\"#cat-id-{general}\"]")));
    assert!(page.has("a[href$='/intake/export.xlsx']"));
    // `/categories` opens the first tree.
    let home = admin.get(BASE).await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), INTAKE);

    // Top level, then children under a chosen parent.
    add(&admin, CategoryTree::Intake, None, "Orders").await;
    let orders = id_of(&app, sid, CategoryTree::Intake, "Orders");
    let r = admin
        .post_form(
            INTAKE,
            &[("parent_id", &orders.to_string()), ("name_en", "  Refund ")],
        )
        .await;
    assert_eq!(r.status, 303);
    let refund = id_of(&app, sid, CategoryTree::Intake, "Refund");
    assert_eq!(r.location(), format!("{INTAKE}#node-{refund}"));
    let page = admin.get(&r.location()).await;
    assert_eq!(page.texts(".flash-success"), ["The category was added."]);
    // The same name under another parent is fine.
    add(&admin, CategoryTree::Intake, Some(general), "Refund").await;
    assert_eq!(
        outline(&app, sid, CategoryTree::Intake),
        ["1 General inquiry", "2 Refund", "1 Orders", "2 Refund"]
    );
    let node = app.db(|c| categories::find(c, sid, CategoryTree::Intake, refund));
    let node = node.unwrap();
    assert_eq!((node.level, node.parent_id), (2, Some(orders)));
    assert!(node.helpcenter_enabled && node.active);

    // The page nests the children under their parent.
    let page = admin.get(INTAKE).await;
    assert_eq!(
        page.texts(&format!(
            "#node-{orders} > ul.cat-children > li span.cat-name"
        )),
        ["Refund"]
    );

    // Bad input: 422 with the message beside the field and the input kept.
    let dup = admin
        .post_form(
            INTAKE,
            &[("parent_id", &orders.to_string()), ("name_en", "REFUND")],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        dup.field_error("name_en"),
        "Another category under the same parent already has this name."
    );
    assert!(dup.has(&format!(
        "#node-{orders} form.cat-add-child input[name=name_en][value=REFUND]"
    )));
    let dup_root = admin.post_form(INTAKE, &[("name_en", "orders")]).await;
    assert_eq!(dup_root.status, 422);
    assert!(dup_root.has("#cat-root-form input[name=name_en][value=orders]"));
    assert!(!dup_root.field_error("name_en").is_empty());
    let empty = admin.post_form(INTAKE, &[("name_en", "   ")]).await;
    assert_eq!(empty.status, 422);
    assert_eq!(empty.field_error("name_en"), "This field is required.");
    let long = "x".repeat(51);
    let too_long = admin.post_form(INTAKE, &[("name_en", &long)]).await;
    assert_eq!(too_long.status, 422);
    assert_eq!(too_long.field_error("name_en"), "At most 50 characters.");
    let ctrl = admin.post_form(INTAKE, &[("name_en", "a\nb")]).await;
    assert_eq!(ctrl.status, 422);
    // A parent must be a node of the same service and tree.
    add(&admin, CategoryTree::Resolution, None, "Solved").await;
    let solved = id_of(&app, sid, CategoryTree::Resolution, "Solved");
    for bad in [solved.to_string(), "999999".into(), "abc".into()] {
        let r = admin
            .post_form(INTAKE, &[("parent_id", &bad), ("name_en", "Child")])
            .await;
        assert_eq!(r.status, 422, "parent {bad}");
        assert_eq!(
            r.field_error("parent_id"),
            "The selected parent category does not exist any more. Reload the page and choose another."
        );
    }
    assert!(ids_named(&app, sid, CategoryTree::Intake, "Child").is_empty());

    // Without JavaScript: the add, rename and node URLs render the page in that mode.
    let add_page = admin.get(&format!("{INTAKE}/{orders}/add")).await;
    assert_eq!(add_page.status, 200);
    assert!(add_page.has(&format!(
        "#node-{orders} form.cat-add-child input[name=parent_id][value=\"{orders}\"]"
    )));
    assert!(add_page.has(".sidebar"));
    let edit_page = admin.get(&format!("{INTAKE}/{refund}/edit")).await;
    assert_eq!(edit_page.status, 200);
    assert!(edit_page.has(&format!(
        "#node-{refund} form.cat-rename input[name=name_en][value=Refund][autofocus]"
    )));
    let back = admin.get(&format!("{INTAKE}/{refund}/node")).await;
    assert_eq!(back.status, 303);
    assert_eq!(back.location(), format!("{INTAKE}#node-{refund}"));

    // Rename: 303 and flash; a sibling's name is refused; keeping its own name is fine.
    let r = admin
        .post_form(&format!("{INTAKE}/{refund}"), &[("name_en", "Refunds")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        admin.get(&r.location()).await.texts(".flash-success"),
        ["The category was renamed."]
    );
    add(&admin, CategoryTree::Intake, Some(orders), "Exchange").await;
    let r = admin
        .post_form(&format!("{INTAKE}/{refund}"), &[("name_en", "exchange")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.has(&format!(
        "#node-{refund} form.cat-rename input[name=name_en][value=exchange]"
    )));
    assert!(!r.field_error("name_en").is_empty());
    let r = admin
        .post_form(&format!("{INTAKE}/{refund}"), &[("name_en", "Refunds")])
        .await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form(&format!("{INTAKE}/{refund}"), &[("name_en", "")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        outline(&app, sid, CategoryTree::Intake),
        [
            "1 General inquiry",
            "2 Refund",
            "1 Orders",
            "2 Refunds",
            "2 Exchange"
        ]
    );
}

#[actix_web::test]
async fn every_action_answers_htmx_with_a_fragment() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let admin = app.login("admin").await;
    admin.get(INTAKE).await;
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");

    // Double-click asks for the rename form: the node's <li> with the form in place.
    let edit = hx_get(&admin, &format!("{INTAKE}/{general}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(is_fragment(&edit));
    assert!(
        edit.text
            .trim_start()
            .starts_with(&format!("<li class=\"cat-node\" id=\"node-{general}\""))
    );
    assert!(edit.has("form.cat-rename[data-escape-cancel] input[name=name_en][autofocus]"));
    assert!(edit.has("form.cat-rename a[data-cancel][hx-get$='/node']"));
    // Cancel restores the node.
    let node = hx_get(&admin, &format!("{INTAKE}/{general}/node")).await;
    assert_eq!(node.status, 200);
    assert!(is_fragment(&node));
    assert!(!node.has("form.cat-rename"));
    assert_eq!(node.texts("span.cat-name"), ["General inquiry"]);
    // Save: the renamed node comes back.
    let saved = hx_post(
        &admin,
        &format!("{INTAKE}/{general}"),
        &[("name_en", "General questions")],
    )
    .await;
    assert_eq!(saved.status, 200);
    assert!(is_fragment(&saved));
    assert_eq!(saved.texts("span.cat-name"), ["General questions"]);
    assert!(!saved.has("form.cat-rename"));

    // Add child: the form opens under the node, the answer is the parent with its new child.
    let form = hx_get(&admin, &format!("{INTAKE}/{general}/add")).await;
    assert_eq!(form.status, 200);
    assert!(form.has(&format!(
        "#node-{general} form.cat-add-child input[name=parent_id][value=\"{general}\"]"
    )));
    let added = hx_post(
        &admin,
        INTAKE,
        &[("parent_id", &general.to_string()), ("name_en", "Account")],
    )
    .await;
    assert_eq!(added.status, 200);
    assert!(is_fragment(&added));
    assert_eq!(
        added.texts("span.cat-name"),
        ["General questions", "Account"]
    );
    assert!(!added.has("form.cat-add-child"));
    let account = id_of(&app, sid, CategoryTree::Intake, "Account");
    // Bad input keeps the form open with the message (422 is swapped by htmx too).
    let dup = hx_post(
        &admin,
        INTAKE,
        &[("parent_id", &general.to_string()), ("name_en", "account")],
    )
    .await;
    assert_eq!(dup.status, 422);
    assert!(is_fragment(&dup));
    assert!(dup.has("form.cat-add-child input[name=name_en][value=account]"));
    assert!(!dup.field_error("name_en").is_empty());
    let bad_rename = hx_post(&admin, &format!("{INTAKE}/{account}"), &[("name_en", "")]).await;
    assert_eq!(bad_rename.status, 422);
    assert!(bad_rename.has("form.cat-rename"));
    assert_eq!(bad_rename.field_error("name_en"), "This field is required.");

    // Top level: the answer is the whole tree block with an empty form.
    let root = hx_post(&admin, INTAKE, &[("parent_id", ""), ("name_en", "Billing")]).await;
    assert_eq!(root.status, 200);
    assert!(root.text.trim_start().starts_with("<div id=\"cat-tree\""));
    assert!(root.has("#cat-root-form input[name=name_en][value=\"\"]"));
    assert_eq!(
        root.texts("#cat-roots > li > .cat-row span.cat-name"),
        ["General questions", "Billing"]
    );
    let root_dup = hx_post(&admin, INTAKE, &[("name_en", "billing")]).await;
    assert_eq!(root_dup.status, 422);
    assert!(root_dup.has("#cat-root-form input[name=name_en][value=billing]"));
    // A parent deleted in another tab: the whole tree comes back, retargeted.
    let gone = hx_post(
        &admin,
        INTAKE,
        &[("parent_id", "987654"), ("name_en", "Orphan")],
    )
    .await;
    assert_eq!(gone.status, 422);
    assert_eq!(gone.header("hx-retarget"), "#cat-tree");
    assert_eq!(gone.header("hx-reswap"), "outerHTML");
    assert!(!gone.field_error("parent_id").is_empty());

    // Help-center switch: the node comes back with the switch flipped.
    let off = hx_post(
        &admin,
        &format!("{INTAKE}/{general}/helpcenter"),
        &[("on", "0")],
    )
    .await;
    assert_eq!(off.status, 200);
    assert!(is_fragment(&off));
    assert!(off.has(&format!(
        "#node-{general} button.switch[aria-checked=false]"
    )));
    // The child keeps its own switch but is hidden by its parent.
    assert!(off.has(&format!("#node-{account} .badge.warn")));

    // Order: the whole tree comes back in the new order.
    let billing = id_of(&app, sid, CategoryTree::Intake, "Billing");
    let (g, a, b) = (
        general.to_string(),
        account.to_string(),
        billing.to_string(),
    );
    let ordered = hx_post(
        &admin,
        &format!("{INTAKE}/order"),
        &[("node_id", &b), ("node_id", &g), ("node_id", &a)],
    )
    .await;
    assert_eq!(ordered.status, 200);
    assert!(
        ordered
            .text
            .trim_start()
            .starts_with("<div id=\"cat-tree\"")
    );
    assert_eq!(
        ordered.texts("#cat-roots > li > .cat-row span.cat-name"),
        ["Billing", "General questions"]
    );
    // An up button sends the form's ids and its own name.
    let up = hx_post(
        &admin,
        &format!("{INTAKE}/order"),
        &[
            ("node_id", &b),
            ("node_id", &g),
            ("node_id", &a),
            ("up", &g),
        ],
    )
    .await;
    assert_eq!(up.status, 200);
    assert_eq!(
        outline(&app, sid, CategoryTree::Intake),
        ["1 General questions", "2 Account", "1 Billing"]
    );

    // Delete: the confirmation opens at the node, the answer is the parent (or the tree).
    let confirm = hx_get(&admin, &format!("{INTAKE}/{general}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(is_fragment(&confirm));
    assert_eq!(
        confirm.texts(".cat-confirm-text"),
        ["Delete “General questions” and its 1 subcategories? 2 categories will be deleted."]
    );
    assert!(confirm.has("form[hx-target='#cat-tree'] input[name=expected][value='2']"));
    let child_confirm = hx_get(&admin, &format!("{INTAKE}/{account}/delete")).await;
    assert!(child_confirm.has(&format!("form[hx-target='#node-{general}']")));
    assert_eq!(
        child_confirm.texts(".cat-confirm-text"),
        ["Delete “Account”?"]
    );
    let gone = hx_post(
        &admin,
        &format!("{INTAKE}/{account}/delete"),
        &[("expected", "1")],
    )
    .await;
    assert_eq!(gone.status, 200);
    assert!(
        gone.text
            .trim_start()
            .starts_with(&format!("<li class=\"cat-node\" id=\"node-{general}\""))
    );
    assert_eq!(gone.texts("span.cat-name"), ["General questions"]);
    let gone = hx_post(
        &admin,
        &format!("{INTAKE}/{general}/delete"),
        &[("expected", "1")],
    )
    .await;
    assert_eq!(gone.status, 200);
    assert!(gone.text.trim_start().starts_with("<div id=\"cat-tree\""));
    assert_eq!(outline(&app, sid, CategoryTree::Intake), ["1 Billing"]);
    // A node that no longer exists: 404 as a toast.
    let missing = hx_get(&admin, &format!("{INTAKE}/{general}/edit")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("hx-retarget"), "#toasts");
}

#[actix_web::test]
async fn each_tree_has_its_depth_limit() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    app.set_features(sid, &["chat"], &[]);
    let admin = app.login("admin").await;
    for (tree, max) in [
        (CategoryTree::Intake, 5),
        (CategoryTree::Resolution, 5),
        (CategoryTree::Faq, 3),
        (CategoryTree::ChatResolution, 3),
    ] {
        let url = tree_url(tree);
        assert_eq!(admin.get(&url).await.status, 200, "{tree}");
        let mut parent = None;
        for level in 1..=max {
            let name = format!("{tree} level {level}");
            add(&admin, tree, parent, &name).await;
            parent = Some(id_of(&app, sid, tree, &name));
        }
        let deepest = parent.unwrap();
        // Each tree has its own nodes only.
        let own = nodes(&app, sid, tree);
        assert!(own.iter().all(|n| n.tree == tree));
        assert_eq!(
            own.iter()
                .filter(|n| n
                    .name(Lang::En)
                    .is_some_and(|s| s.starts_with(tree.as_str())))
                .count(),
            max as usize
        );
        let too_deep = admin
            .post_form(
                &url,
                &[("parent_id", &deepest.to_string()), ("name_en", "Too deep")],
            )
            .await;
        assert_eq!(too_deep.status, 422, "{tree}");
        assert_eq!(
            too_deep.field_error("parent_id"),
            format!("This tree allows at most {max} levels: no subcategory can be added here.")
        );
        let hx = hx_post(
            &admin,
            &url,
            &[("parent_id", &deepest.to_string()), ("name_en", "Too deep")],
        )
        .await;
        assert_eq!(hx.status, 422);
        assert!(hx.has(&format!("#node-{deepest} #e-parent_id")));
        assert!(ids_named(&app, sid, tree, "Too deep").is_empty());
        // The last level offers no "+ Subcategory"; the one above does.
        let page = admin.get(&url).await;
        assert!(!page.has(&format!("#node-{deepest} > .cat-row a.cat-add")));
        let above = own.iter().find(|n| n.level == max - 1).unwrap().id;
        assert!(page.has(&format!("#node-{above} > .cat-row a.cat-add")));
        // Only intake types have the help-center switch.
        assert_eq!(
            page.has("button.switch"),
            tree == CategoryTree::Intake,
            "{tree}"
        );
    }
}

#[actix_web::test]
async fn deleting_a_node_takes_its_subtree_after_a_counted_confirmation() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let admin = app.login("admin").await;
    add(&admin, CategoryTree::Resolution, None, "Orders").await;
    let orders = id_of(&app, sid, CategoryTree::Resolution, "Orders");
    add(&admin, CategoryTree::Resolution, Some(orders), "Refund").await;
    let refund = id_of(&app, sid, CategoryTree::Resolution, "Refund");
    add(&admin, CategoryTree::Resolution, Some(refund), "Partial").await;
    add(&admin, CategoryTree::Resolution, Some(orders), "Exchange").await;
    add(&admin, CategoryTree::Resolution, None, "Other").await;

    // The confirmation page (no JavaScript) says how many go.
    let confirm = admin.get(&format!("{RESOLUTION}/{orders}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.has(".sidebar"));
    assert_eq!(
        confirm.texts(&format!("#node-{orders} .cat-confirm-text")),
        ["Delete “Orders” and its 3 subcategories? 4 categories will be deleted."]
    );
    assert!(confirm.has(&format!(
        "form[action='{RESOLUTION}/{orders}/delete'] input[name=expected][value='4']"
    )));
    // The subtree grew meanwhile: nothing is deleted, the new count is asked for.
    add(&admin, CategoryTree::Resolution, Some(refund), "Full").await;
    let changed = admin
        .post_form(
            &format!("{RESOLUTION}/{orders}/delete"),
            &[("expected", "4")],
        )
        .await;
    assert_eq!(changed.status, 409);
    assert_eq!(
        changed.texts(&format!("#node-{orders} .cat-confirm-text")),
        ["Delete “Orders” and its 4 subcategories? 5 categories will be deleted."]
    );
    assert!(changed.has(".cat-confirm .field-error"));
    assert_eq!(nodes(&app, sid, CategoryTree::Resolution).len(), 6);
    // Confirmed: the five go, the rest stays.
    let r = admin
        .post_form(
            &format!("{RESOLUTION}/{orders}/delete"),
            &[("expected", "5")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), RESOLUTION);
    assert_eq!(
        admin.get(RESOLUTION).await.texts(".flash-success"),
        ["5 categories were deleted."]
    );
    assert_eq!(outline(&app, sid, CategoryTree::Resolution), ["1 Other"]);
    let left: i64 = app.db(|c| {
        cat_table::table
            .filter(cat_table::service_id.eq(sid))
            .filter(cat_table::tree.eq("resolution"))
            .count()
            .get_result(c)
    });
    assert_eq!(left, 1);
    // The intake tree was not touched.
    assert_eq!(nodes(&app, sid, CategoryTree::Intake).len(), 1);
    // Deleting a leaf without a count works too; a deleted node is 404.
    let other = id_of(&app, sid, CategoryTree::Resolution, "Other");
    let r = admin
        .post_form(&format!("{RESOLUTION}/{other}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form(&format!("{RESOLUTION}/{other}/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
    assert!(admin.get(RESOLUTION).await.has("p.empty"));
}

#[actix_web::test]
async fn sibling_order_is_kept() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let other_sid = create_service(&app, "other");
    let admin = app.login("admin").await;
    let faq = tree_url(CategoryTree::Faq);
    for name in ["A", "B", "C"] {
        add(&admin, CategoryTree::Faq, None, name).await;
    }
    let a = id_of(&app, sid, CategoryTree::Faq, "A");
    for name in ["a1", "a2"] {
        add(&admin, CategoryTree::Faq, Some(a), name).await;
    }
    let id = |n: &str| id_of(&app, sid, CategoryTree::Faq, n).to_string();
    let (sa, sb, sc, a1, a2) = (id("A"), id("B"), id("C"), id("a1"), id("a2"));
    let foreign = app.db(|c| categories::list_tree(c, other_sid, CategoryTree::Intake))[0]
        .id
        .to_string();

    // After a drag: every list's ids in page order (depth-first); strangers are ignored.
    let r = admin
        .post_form(
            &format!("{faq}/order"),
            &[
                ("node_id", &sc),
                ("node_id", &sa),
                ("node_id", &a2),
                ("node_id", &a1),
                ("node_id", &foreign),
                ("node_id", &sb),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        admin.get(&r.location()).await.texts(".flash-success"),
        ["The order was saved."]
    );
    assert_eq!(
        outline(&app, sid, CategoryTree::Faq),
        ["1 C", "1 A", "2 a2", "2 a1", "1 B"]
    );
    // The page shows that order, with the first/last buttons disabled.
    let page = admin.get(&faq).await;
    assert_eq!(page.texts("span.cat-name"), ["C", "A", "a2", "a1", "B"]);
    assert!(page.has(&format!("button[name=up][value='{sc}'][disabled]")));
    assert!(page.has(&format!("button[name=down][value='{sb}'][disabled]")));
    assert!(page.has(&format!("button[name=down][value='{a1}'][disabled]")));
    assert!(page.has(&format!(
        "input[name=node_id][value='{a2}'][form=cat-order]"
    )));
    // The buttons (no JavaScript): one step among siblings.
    let r = admin
        .post_form(
            &format!("{faq}/order"),
            &[
                ("node_id", &sc),
                ("node_id", &sa),
                ("node_id", &a2),
                ("node_id", &a1),
                ("node_id", &sb),
                ("down", &sa),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("{faq}#node-{sa}"));
    let r = admin
        .post_form(&format!("{faq}/order"), &[("up", &a1)])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        outline(&app, sid, CategoryTree::Faq),
        ["1 C", "1 B", "1 A", "2 a1", "2 a2"]
    );
    // New categories go to the end of their siblings.
    add(&admin, CategoryTree::Faq, None, "D").await;
    assert_eq!(
        outline(&app, sid, CategoryTree::Faq),
        ["1 C", "1 B", "1 A", "2 a1", "2 a2", "1 D"]
    );
    // The other service's tree is untouched.
    assert_eq!(
        outline(&app, other_sid, CategoryTree::Intake),
        ["1 General inquiry"]
    );
}

#[actix_web::test]
async fn names_per_language_are_unique_per_language_among_siblings() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    set_languages(&app, sid, "ko,en,ja", "en");
    let admin = app.login("admin").await;
    let page = admin.get(INTAKE).await;
    // The default language first and required, then the others.
    let labels = page.texts("#cat-root-form label");
    assert_eq!(
        labels,
        ["Name · English *", "Name · 한국어", "Name · 日本語"]
    );

    let r = admin
        .post_form(
            INTAKE,
            &[
                ("name_en", "Delivery"),
                ("name_ko", "배송"),
                ("name_ja", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let delivery = id_of(&app, sid, CategoryTree::Intake, "Delivery");
    let node = app
        .db(|c| categories::find(c, sid, CategoryTree::Intake, delivery))
        .unwrap();
    assert_eq!(node.name(Lang::Ko), Some("배송"));
    assert_eq!(node.name(Lang::Ja), None);
    // The other languages' names show beside the default one.
    let page = admin.get(INTAKE).await;
    assert_eq!(
        page.texts(&format!("#node-{delivery} .cat-alt[lang=ko]")),
        ["배송"]
    );
    // Another sibling may not reuse the Korean name, even with a new English one.
    let r = admin
        .post_form(INTAKE, &[("name_en", "Shipping"), ("name_ko", "배송")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("name_en").is_empty());
    assert_eq!(
        r.field_error("name_ko"),
        "Another category under the same parent already has this name."
    );
    // The default language is required; optional ones are bounded too.
    let r = admin
        .post_form(INTAKE, &[("name_en", ""), ("name_ko", "배송 문의")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("name_en"), "This field is required.");
    let long = "가".repeat(51);
    let r = admin
        .post_form(INTAKE, &[("name_en", "Stock"), ("name_ja", &long)])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("name_ja"), "At most 50 characters.");
    // Under the node the Korean name is free.
    let r = admin
        .post_form(
            INTAKE,
            &[
                ("parent_id", &delivery.to_string()),
                ("name_en", "Delayed"),
                ("name_ko", "배송"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    // Renaming sets, changes and removes optional names; names of other languages stay.
    let r = admin
        .post_form(
            &format!("{INTAKE}/{delivery}"),
            &[
                ("name_en", "Delivery"),
                ("name_ko", ""),
                ("name_ja", "配送"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let node = app
        .db(|c| categories::find(c, sid, CategoryTree::Intake, delivery))
        .unwrap();
    assert_eq!(node.name(Lang::Ko), None);
    assert_eq!(node.name(Lang::Ja), Some("配送"));
    set_languages(&app, sid, "en", "en");
    let r = admin
        .post_form(
            &format!("{INTAKE}/{delivery}"),
            &[("name_en", "Deliveries")],
        )
        .await;
    assert_eq!(r.status, 303);
    let node = app
        .db(|c| categories::find(c, sid, CategoryTree::Intake, delivery))
        .unwrap();
    assert_eq!(node.name(Lang::En), Some("Deliveries"));
    assert_eq!(
        node.name(Lang::Ja),
        Some("配送"),
        "kept for when ja returns"
    );
    // The rename form is per language too.
    set_languages(&app, sid, "ko,en,ja", "ko");
    let edit = hx_get(&admin, &format!("{INTAKE}/{delivery}/edit")).await;
    assert!(edit.has("form.cat-rename input[name=name_ko][autofocus][value='']"));
    assert!(edit.has("form.cat-rename input[name=name_ja][value='配送']"));
    let r = hx_post(
        &admin,
        &format!("{INTAKE}/{delivery}"),
        &[("name_en", "Deliveries"), ("name_ja", "配送")],
    )
    .await;
    assert_eq!(r.status, 422, "Korean is now the default and required");
    assert_eq!(r.field_error("name_ko"), "This field is required.");
}

#[actix_web::test]
async fn the_help_center_switch_decides_what_customers_see() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let admin = app.login("admin").await;
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    add(&admin, CategoryTree::Intake, None, "Phone only").await;
    let phone = id_of(&app, sid, CategoryTree::Intake, "Phone only");
    add(&admin, CategoryTree::Intake, Some(phone), "Callback").await;
    let callback = id_of(&app, sid, CategoryTree::Intake, "Callback");
    add(&admin, CategoryTree::Intake, Some(general), "Account").await;

    let r = admin
        .post_form(&format!("{INTAKE}/{phone}/helpcenter"), &[("on", "0")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("{INTAKE}#node-{phone}"));
    let page = admin.get(&r.location()).await;
    assert_eq!(
        page.texts(".flash-success"),
        ["The category is now used in the console only."]
    );
    assert!(page.has(&format!(
        "#node-{phone} > .cat-row button.switch[aria-checked=false]"
    )));
    assert!(page.has(&format!("#node-{phone} > .cat-row.console-only")));
    assert_eq!(
        page.texts(&format!("#node-{callback} > .cat-row .badge.warn")),
        ["Hidden by a parent"]
    );
    // The portal's list: switched-on nodes whose ancestors are all on.
    let hc: Vec<String> = app
        .db(|c| categories::helpcenter_nodes(c, sid))
        .into_iter()
        .map(|n| n.display_name(Lang::En, Lang::En).to_string())
        .collect();
    assert_eq!(hc, ["General inquiry", "Account"]);
    let r = admin
        .post_form(&format!("{INTAKE}/{phone}/helpcenter"), &[("on", "1")])
        .await;
    assert_eq!(r.status, 303);
    let hc = app.db(|c| categories::helpcenter_nodes(c, sid));
    assert_eq!(hc.len(), 4);
    // Turning a child off hides only it.
    admin
        .post_form(&format!("{INTAKE}/{callback}/helpcenter"), &[("on", "0")])
        .await;
    let hc = app.db(|c| categories::helpcenter_nodes(c, sid));
    assert_eq!(hc.len(), 3);
    assert!(hc.iter().all(|n| n.id != callback));
    // A missing or odd value is a bad request; other trees have no switch.
    let r = admin
        .post_form(&format!("{INTAKE}/{phone}/helpcenter"), &[("on", "yes")])
        .await;
    assert_eq!(r.status, 400);
    add(&admin, CategoryTree::Resolution, None, "Solved").await;
    let solved = id_of(&app, sid, CategoryTree::Resolution, "Solved");
    let r = admin
        .post_form(&format!("{RESOLUTION}/{solved}/helpcenter"), &[("on", "0")])
        .await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn domain_functions_read_whole_trees() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    set_languages(&app, sid, "en,ko", "en");
    let admin = app.login("admin").await;
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    add(&admin, CategoryTree::Intake, Some(general), "Login").await;
    let login = id_of(&app, sid, CategoryTree::Intake, "Login");
    admin
        .post_form(
            INTAKE,
            &[
                ("parent_id", &login.to_string()),
                ("name_en", "Password"),
                ("name_ko", "비밀번호"),
            ],
        )
        .await;
    let password = id_of(&app, sid, CategoryTree::Intake, "Password");
    add(&admin, CategoryTree::Intake, Some(general), "Billing").await;

    let all = app.db(|c| categories::list_tree(c, sid, CategoryTree::Intake));
    let names: Vec<&str> = all.iter().map(|n| n.name(Lang::En).unwrap()).collect();
    assert_eq!(names, ["General inquiry", "Login", "Password", "Billing"]);
    let kids = app.db(|c| categories::children_of(c, sid, CategoryTree::Intake, Some(general)));
    let kid_names: Vec<&str> = kids.iter().map(|n| n.name(Lang::En).unwrap()).collect();
    assert_eq!(kid_names, ["Login", "Billing"]);
    let roots = app.db(|c| categories::children_of(c, sid, CategoryTree::Intake, None));
    assert_eq!(roots.len(), 1);
    let path = app
        .db(|c| categories::path_names(c, sid, CategoryTree::Intake, password, Lang::Ko, Lang::En));
    assert_eq!(
        path.unwrap(),
        ["General inquiry", "Login", "비밀번호"],
        "Korean where named, the default language elsewhere"
    );
    let wrong_tree =
        app.db(|c| categories::path_names(c, sid, CategoryTree::Faq, password, Lang::En, Lang::En));
    assert!(wrong_tree.is_none());
    assert!(
        app.db(|c| categories::find(c, sid, CategoryTree::Resolution, password))
            .is_none()
    );
    let other = create_service(&app, "other");
    assert!(
        app.db(|c| categories::find(c, other, CategoryTree::Intake, password))
            .is_none()
    );
    assert_eq!(categories::max_depth(CategoryTree::ChatResolution), 3);
}

/// Reads a worksheet's cells (inline or shared strings) from an xlsx file.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let shared_xml = read("xl/sharedStrings.xml");
    let sheet_xml = read("xl/worksheets/sheet1.xml");
    let shared: Vec<String> = shared_xml
        .split("<si>")
        .skip(1)
        .map(|si| {
            let start = si.find("<t").unwrap();
            let after = &si[start..];
            let open_end = after.find('>').unwrap();
            let close = after.find("</t>").unwrap();
            after[open_end + 1..close].to_string()
        })
        .collect();
    let mut rows = Vec::new();
    for row in sheet_xml.split("<row ").skip(1) {
        let row = &row[..row.find("</row>").unwrap()];
        let mut cells = Vec::new();
        for cell in row.split("<c ").skip(1) {
            let attrs = &cell[..cell.find('>').unwrap()];
            let value = cell
                .find("<v>")
                .map(|i| cell[i + 3..cell.find("</v>").unwrap()].to_string())
                .unwrap_or_default();
            let col: String = attrs
                .split("r=\"")
                .nth(1)
                .unwrap()
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let idx = col
                .bytes()
                .fold(0usize, |a, b| a * 26 + usize::from(b - b'A' + 1))
                - 1;
            while cells.len() < idx {
                cells.push(String::new());
            }
            if attrs.contains("t=\"s\"") {
                cells.push(shared[value.parse::<usize>().unwrap()].clone());
            } else {
                cells.push(value);
            }
        }
        rows.push(cells);
    }
    rows
}

#[actix_web::test]
async fn a_tree_exports_to_excel() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    set_languages(&app, sid, "en,ko", "en");
    let admin = app.login("admin").await;
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    admin
        .post_form(
            INTAKE,
            &[
                ("parent_id", &general.to_string()),
                ("name_en", "Login"),
                ("name_ko", "로그인"),
            ],
        )
        .await;
    let login = id_of(&app, sid, CategoryTree::Intake, "Login");
    add(&admin, CategoryTree::Intake, Some(login), "Password").await;
    let password = id_of(&app, sid, CategoryTree::Intake, "Password");
    admin
        .post_form(&format!("{INTAKE}/{login}/helpcenter"), &[("on", "0")])
        .await;

    let r = admin
        .http
        .get(format!("{}{INTAKE}/export.xlsx", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"demo-intake-categories-")
            && disposition.ends_with(".xlsx\""),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip container");
    let rows = xlsx_rows(&bytes);
    assert_eq!(
        rows[0],
        [
            "Category ID",
            "Level 1 (English)",
            "Level 2 (English)",
            "Level 3 (English)",
            "Level 4 (English)",
            "Level 5 (English)",
            "Help center",
            "Name (한국어)"
        ]
    );
    assert_eq!(
        rows[1][..2],
        [general.to_string(), "General inquiry".into()]
    );
    assert_eq!(rows[1][6], "ON");
    assert_eq!(
        rows[2],
        [
            login.to_string(),
            "General inquiry".into(),
            "Login".into(),
            String::new(),
            String::new(),
            String::new(),
            "OFF".into(),
            "로그인".into()
        ]
    );
    assert_eq!(
        rows[3][..4],
        [
            password.to_string(),
            "General inquiry".into(),
            "Login".into(),
            "Password".into()
        ]
    );
    assert_eq!(rows.len(), 4);

    // Other trees have no help-center column; an empty tree exports its header.
    let r = admin
        .http
        .get(format!("{}{RESOLUTION}/export.xlsx", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = xlsx_rows(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].len(), 7);
    assert_eq!(rows[0][6], "Name (한국어)");
}

#[actix_web::test]
async fn who_may_open_the_category_pages() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(sid, kim, "agent");
    let other_sid = create_service(&app, "other");
    let lee = app.create_member("lee", "Lee Other Admin", false);
    app.add_to_service(other_sid, lee, "admin");
    let boss = app.create_member("boss", "Org Admin Not Member", true);
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    let g = general.to_string();
    let gets = [
        BASE.to_string(),
        INTAKE.to_string(),
        format!("{INTAKE}/export.xlsx"),
        format!("{INTAKE}/{g}/node"),
        format!("{INTAKE}/{g}/edit"),
        format!("{INTAKE}/{g}/add"),
        format!("{INTAKE}/{g}/delete"),
    ];
    let posts = [
        INTAKE.to_string(),
        format!("{INTAKE}/order"),
        format!("{INTAKE}/{g}"),
        format!("{INTAKE}/{g}/helpcenter"),
        format!("{INTAKE}/{g}/delete"),
    ];
    let fields: [(&str, &str); 2] = [("name_en", "Hacked"), ("on", "0")];

    // Signed out: to the login page.
    let anon = app.client();
    for path in &gets {
        let r = anon.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().starts_with("/login?next="), "{path}");
    }
    // An agent, an admin of another service, an org admin who is not a member: 403.
    for login in ["kim", "lee", "boss"] {
        let c = app.login(login).await;
        for path in &gets {
            assert_eq!(c.get(path).await.status, 403, "{login} GET {path}");
        }
        for path in &posts {
            let r = c.post_form(path, &fields).await;
            assert_eq!(r.status, 403, "{login} POST {path}");
        }
        let r = hx_post(&c, INTAKE, &[("name_en", "Hacked")]).await;
        assert_eq!(r.status, 403);
        assert_eq!(r.header("hx-retarget"), "#toasts");
    }
    let _ = boss;
    // The agent's menu has no category pages.
    let kim_c = app.login("kim").await;
    let home = kim_c.get("/demo/console/").await;
    assert!(!home.texts(".sidebar a").iter().any(|m| m == "Intake types"));
    // The other service's admin manages only their own tree.
    let lee_c = app.login("lee").await;
    assert_eq!(
        lee_c
            .get("/other/console/settings/categories/intake")
            .await
            .status,
        200
    );
    let r = lee_c
        .post_form(
            &format!("/other/console/settings/categories/intake/{g}"),
            &[("name_en", "Hacked")],
        )
        .await;
    assert_eq!(r.status, 404, "a node of another service is not found");
    let r = lee_c
        .post_form(
            "/other/console/settings/categories/intake",
            &[("parent_id", &g), ("name_en", "Hacked")],
        )
        .await;
    assert_eq!(r.status, 422, "no child under another service's node");

    // The admin: no CSRF token is 403, unknown trees and nodes are 404, a tree whose feature
    // is off is 403.
    let admin = app.login("admin").await;
    admin.get(INTAKE).await;
    for path in &posts {
        let r = admin.post_form_raw(path, &fields, &[]).await;
        assert_eq!(r.status, 403, "no CSRF: {path}");
    }
    let r = admin
        .post_form_raw(INTAKE, &[("name_en", "x")], &[("HX-Request", "true")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(admin.get(&format!("{BASE}/products")).await.status, 404);
    assert_eq!(
        admin
            .post_form(&format!("{BASE}/products"), &fields)
            .await
            .status,
        404
    );
    assert_eq!(
        admin.get(&format!("{INTAKE}/999999/edit")).await.status,
        404
    );
    assert_eq!(admin.get(&format!("{INTAKE}/abc/edit")).await.status, 404);
    assert_eq!(
        admin.get(&format!("{RESOLUTION}/{g}/edit")).await.status,
        404,
        "a node of another tree"
    );
    let chat = admin.get(&format!("{BASE}/chat_resolution")).await;
    assert_eq!(chat.status, 403);
    assert!(chat.text.contains("its feature is turned off"));
    app.set_features(sid, &["chat"], &["faq"]);
    assert_eq!(
        admin.get(&format!("{BASE}/chat_resolution")).await.status,
        200
    );
    assert_eq!(admin.get(&format!("{BASE}/faq")).await.status, 403);
    let menu = admin.get(INTAKE).await.texts(".sidebar a");
    assert!(menu.iter().any(|m| m == "Chat resolution types"));
    assert!(!menu.iter().any(|m| m == "FAQ categories"));
    // Nothing changed through any refused request.
    assert_eq!(
        outline(&app, sid, CategoryTree::Intake),
        ["1 General inquiry"]
    );
    assert!(ids_named(&app, other_sid, CategoryTree::Intake, "Hacked").is_empty());
    let node = app
        .db(|c| categories::find(c, sid, CategoryTree::Intake, general))
        .unwrap();
    assert!(node.helpcenter_enabled);
}

/// In a real browser: a double-click on a name swaps in the rename form (focused), typing and
/// Enter save it through htmx, and the renamed node replaces the form without a page load;
/// Escape restores a node unchanged; a drag saves the order, also without a page load.
#[actix_web::test]
async fn rename_in_place_with_a_double_click_in_the_browser() {
    use fantoccini::Locator;
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    use fantoccini::key::Key;

    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let admin = app.login("admin").await;
    add(&admin, CategoryTree::Intake, None, "Orders").await;
    let general = id_of(&app, sid, CategoryTree::Intake, "General inquiry");
    let orders = id_of(&app, sid, CategoryTree::Intake, "Orders");

    let b = crate::support::browser::Browser::start().await;
    b.sign_in(&app.base, "admin", &INTAKE).await;
    let name = b.wait_css(&format!("#node-{general} .cat-name")).await;
    // A marker that a page load would wipe.
    b.client
        .execute("window.__notReloaded = true;", vec![])
        .await
        .unwrap();

    let dbl = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: name.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(dbl).await.unwrap();
    let input = b
        .wait_css(&format!(
            "#node-{general} form.cat-rename input[name=name_en]"
        ))
        .await;
    // The field gets the focus (htmx applies autofocus when the swap settles: bounded wait).
    b.wait_css(&format!(
        "#node-{general} form.cat-rename input[name=name_en]:focus"
    ))
    .await;
    input.clear().await.unwrap();
    input
        .send_keys(&format!("Questions{}", char::from(Key::Enter)))
        .await
        .unwrap();
    b.wait_css(&format!(
        "#node-{general}:not(:has(form.cat-rename)) .cat-name"
    ))
    .await;
    let text = b
        .client
        .find(Locator::Css(&format!("#node-{general} .cat-name")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "Questions");
    let same_page: serde_json::Value = b
        .client
        .execute("return window.__notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, true, "renamed without a page load");
    assert_eq!(
        app.db(|c| categories::find(c, sid, CategoryTree::Intake, general))
            .unwrap()
            .name(Lang::En),
        Some("Questions")
    );

    // Escape cancels: the node comes back unchanged.
    b.client
        .find(Locator::Css(&format!(
            "#node-{orders} > .cat-row a.cat-edit"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = b
        .wait_css(&format!(
            "#node-{orders} form.cat-rename input[name=name_en]"
        ))
        .await;
    input
        .send_keys(&format!("Changed{}", char::from(Key::Escape)))
        .await
        .unwrap();
    b.wait_css(&format!(
        "#node-{orders}:not(:has(form.cat-rename)) .cat-name"
    ))
    .await;
    let text = b
        .client
        .find(Locator::Css(&format!("#node-{orders} .cat-name")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "Orders");
    let same_page: serde_json::Value = b
        .client
        .execute("return window.__notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, true);
    // What SortableJS does at the end of a drag on the top-level list: its rows hold forms, so
    // the list names its order form (data-form) and app.js posts that form through htmx.
    b.client
        .execute(
            "const ul = document.getElementById('cat-roots');
             ul.insertBefore(ul.lastElementChild, ul.firstElementChild);
             document.getElementById('cat-tree').setAttribute('data-before-swap', '1');
             Sortable.get(ul).options.onEnd({});",
            vec![],
        )
        .await
        .unwrap();
    b.wait_css("#cat-tree:not([data-before-swap]) #cat-roots[data-sortable-ready]")
        .await;
    assert_eq!(
        outline(&app, sid, CategoryTree::Intake),
        ["1 Orders", "1 Questions"]
    );
    let same_page: serde_json::Value = b
        .client
        .execute("return window.__notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, true, "reordered without a page load");
    b.screenshot("categories-rename").await;
    b.close().await;
}
