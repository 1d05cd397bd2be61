//! Excel export of a category tree (SPEC §3.3, §12): one row per category, depth-first, with its
//! ID, its path as one column per level in the default language, the help-center switch for
//! intake types, and its own name in each of the service's other languages.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::categories::model::{Tree, max_depth, name_languages};
use crate::categories::page::title_key;
use crate::db::types::CategoryTree;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;

/// The content type of an `.xlsx` workbook.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `<service>-<tree>-categories-<YYYYMMDD>.xlsx`, dated in the service's time zone (ASCII only:
/// service IDs are letters and tree codes are fixed).
pub fn file_name(service: &Service, tree: CategoryTree) -> String {
    let now = chrono::Utc::now();
    let date = match service.timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).format("%Y%m%d").to_string(),
        Err(_) => now.format("%Y%m%d").to_string(),
    };
    format!("{}-{}-categories-{date}.xlsx", service.code, tree.as_str())
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let trimmed = cleaned.trim_matches('\'').trim().to_string();
    if trimmed.is_empty() {
        "Categories".to_string()
    } else {
        trimmed
    }
}

fn xlsx(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// Builds the workbook; headers are in the viewer's UI language `ui`.
pub fn workbook(
    t: &Tree,
    tree: CategoryTree,
    service: &Service,
    ui: Lang,
) -> Result<Vec<u8>, AppError> {
    build(t, tree, service, ui).map_err(xlsx)
}

fn build(t: &Tree, tree: CategoryTree, service: &Service, ui: Lang) -> Result<Vec<u8>, XlsxError> {
    let (default, langs) = name_languages(service);
    let others: Vec<Lang> = langs.into_iter().filter(|l| *l != default).collect();
    let levels = u16::try_from(max_depth(tree)).unwrap_or(5);
    let with_helpcenter = tree == CategoryTree::Intake;

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(&i18n::t(ui, title_key(tree))))?;
    let bold = Format::new().set_bold();

    let mut headers: Vec<String> = vec![i18n::t(ui, "category.export.id")];
    for level in 1..=levels {
        headers.push(i18n::tf(
            ui,
            "category.export.level",
            &[
                ("level", &level.to_string()),
                ("lang", default.native_name()),
            ],
        ));
    }
    if with_helpcenter {
        headers.push(i18n::t(ui, "category.helpcenter"));
    }
    for l in &others {
        headers.push(i18n::tf(
            ui,
            "category.export.name_in",
            &[("lang", l.native_name())],
        ));
    }
    for (col, h) in headers.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, h, &bold)?;
        sheet.set_column_width(col, if col == 0 { 12 } else { 24 })?;
    }
    sheet.set_freeze_panes(1, 0)?;

    let on = i18n::t(ui, "category.on");
    let off = i18n::t(ui, "category.off");
    for (i, node) in t.nodes().iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        // IDs are far below 2^53, so the number is exact in Excel.
        sheet.write_number(row, 0, node.id as f64)?;
        let path = t.path_names(node.id, default, default);
        for (level, name) in path.iter().enumerate().take(usize::from(levels)) {
            let col = u16::try_from(level + 1).unwrap_or(u16::MAX);
            sheet.write_string(row, col, name)?;
        }
        let mut col = levels + 1;
        if with_helpcenter {
            let flag = if node.helpcenter_enabled { &on } else { &off };
            sheet.write_string(row, col, flag)?;
            col += 1;
        }
        for l in &others {
            if let Some(name) = node.name(*l) {
                sheet.write_string(row, col, name)?;
            }
            col += 1;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::sheet_name;

    #[test]
    fn sheet_names_are_what_excel_accepts() {
        assert_eq!(sheet_name("Intake types"), "Intake types");
        assert_eq!(sheet_name("a/b:c"), "abc");
        assert_eq!(sheet_name(&"x".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name("[]"), "Categories");
    }
}
