//! Portable text search. Backend differences in searching live here: SQLite's `LIKE` is
//! case-insensitive for ASCII while PostgreSQL's is not, so "contains" searches compare
//! `lower(column)` with a lower-cased pattern on both; and full-text search over normalised
//! `search_text` columns ([`normalize`], [`SearchQuery`], [`fts_filter`]) goes to SQLite's FTS5
//! or PostgreSQL's `tsvector('simple')` index with identical hits.

mod sql {
    #![allow(
        missing_docs,
        reason = "diesel's define_sql_function generates undocumented helper items"
    )]
    use diesel::sql_types::Text;

    diesel::define_sql_function! {
        /// SQL `lower(text)`: the same call on SQLite (ASCII folding) and PostgreSQL.
        fn lower(x: Text) -> Text;
    }
}

pub use sql::lower;

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A lower-cased "contains" pattern for `lower(column) LIKE pattern ESCAPE '\'`.
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", escape_like(&q.trim().to_lowercase()))
}

// ---------------------------------------------------------------------------------------------
// Full-text search over a normalised `search_text` column (ARCHITECTURE §4).
//
// Both backends index the same token stream: `normalize` turns text into space-separated tokens
// — Latin (and other alphabetic) words lower-cased, and every run of Korean/Japanese/CJK
// characters cut into overlapping two-character pieces ("환불요청" → "환불 불요 요청"). A query
// is normalised the same way and every token must be present, so a two-syllable word found
// inside a longer one ("환불" in "환불요청") is a hit on SQLite's FTS5 and on PostgreSQL's
// `to_tsvector('simple', …)` alike, which trigram search misses.
// ---------------------------------------------------------------------------------------------

/// Longest token kept (longer "words" are noise such as base64 and never searched for).
const MAX_TOKEN_CHARS: usize = 64;
/// Most tokens taken from a query.
const MAX_QUERY_TOKENS: usize = 16;

/// Whether a character belongs to a script written without spaces between words that we index
/// by two-character pieces: Hangul, Hiragana, Katakana and CJK ideographs.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x3040..=0x309F    // Hiragana
        | 0x30A0..=0x30FF    // Katakana (with the prolonged sound mark)
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xA960..=0xA97F    // Hangul Jamo extended A
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xD7B0..=0xD7FF    // Hangul Jamo extended B
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x2FA1F  // CJK extensions B–F and supplements
    )
}

/// Folds full-width ASCII (`Ａ`, `１`) to ASCII so that both widths find each other.
fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// One unit of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// A lower-cased word of letters and digits.
    Word(String),
    /// A run of CJK characters.
    Run(Vec<char>),
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut Vec<Piece>| {
        if !word.is_empty() {
            if word.chars().count() <= MAX_TOKEN_CHARS {
                out.push(Piece::Word(std::mem::take(word)));
            } else {
                word.clear();
            }
        }
    };
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<Piece>| {
        if !run.is_empty() {
            out.push(Piece::Run(std::mem::take(run)));
        }
    };
    for c in text.chars().map(fold_width) {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut out);
            flush_run(&mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// The overlapping two-character pieces of a CJK run (a single character stays itself).
fn bigrams(run: &[char]) -> Vec<String> {
    if run.len() < 2 {
        return run.iter().map(|c| c.to_string()).collect();
    }
    run.windows(2).map(|w| w.iter().collect()).collect()
}

/// Normalises document text into the `search_text` column's token stream.
pub fn normalize(text: &str) -> String {
    let mut tokens: Vec<String> = Vec::new();
    for piece in pieces(text) {
        match piece {
            Piece::Word(w) => tokens.push(w),
            Piece::Run(r) => tokens.extend(bigrams(&r)),
        }
    }
    tokens.join(" ")
}

/// One query token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryToken {
    /// The token must be present as a whole.
    Exact(String),
    /// A lone CJK character: any two-character piece starting with it matches.
    Prefix(String),
}

/// A normalised search query: every token must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    tokens: Vec<QueryToken>,
}

impl SearchQuery {
    /// Normalises what a user typed; `None` when nothing searchable is left.
    pub fn parse(q: &str) -> Option<SearchQuery> {
        let mut tokens: Vec<QueryToken> = Vec::new();
        for piece in pieces(q) {
            let new: Vec<QueryToken> = match piece {
                Piece::Word(w) => vec![QueryToken::Exact(w)],
                Piece::Run(r) if r.len() == 1 => vec![QueryToken::Prefix(r[0].to_string())],
                Piece::Run(r) => bigrams(&r).into_iter().map(QueryToken::Exact).collect(),
            };
            for t in new {
                if !tokens.contains(&t) && tokens.len() < MAX_QUERY_TOKENS {
                    tokens.push(t);
                }
            }
        }
        (!tokens.is_empty()).then_some(SearchQuery { tokens })
    }

    /// The tokens.
    pub fn tokens(&self) -> &[QueryToken] {
        &self.tokens
    }

    /// The FTS5 `MATCH` expression: quoted tokens, implicitly AND-ed (tokens hold only letters,
    /// digits and CJK characters, so quoting cannot be escaped from).
    pub fn fts5(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                QueryToken::Exact(s) => format!("\"{s}\""),
                QueryToken::Prefix(s) => format!("\"{s}\"*"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The PostgreSQL `to_tsquery('simple', …)` text.
    pub fn tsquery(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                QueryToken::Exact(s) => format!("'{s}'"),
                QueryToken::Prefix(s) => format!("'{s}':*"),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// Tables with a `search_text` column and a full-text index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsTable {
    /// `faqs` (FTS5 table `faq_fts`).
    Faqs,
    /// `notices` (FTS5 table `notice_fts`).
    Notices,
    /// `tickets` (FTS5 table `ticket_fts`; `search_text` is the normalised subject).
    Tickets,
}

impl FtsTable {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            FtsTable::Faqs => ("faqs", "faq_fts"),
            FtsTable::Notices => ("notices", "notice_fts"),
            FtsTable::Tickets => ("tickets", "ticket_fts"),
        }
    }
}

/// The type of [`fts_filter`]: an SQL condition with the query bound as a parameter.
pub type FtsFilter = diesel::expression::SqlLiteral<
    diesel::sql_types::Bool,
    diesel::expression::UncheckedBind<
        diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
        <String as diesel::expression::AsExpression<diesel::sql_types::Text>>::Expression,
    >,
>;

/// A `WHERE` condition on `table` that holds for rows whose `search_text` matches `q`: an FTS5
/// lookup on SQLite, the `to_tsvector('simple', search_text)` GIN index on PostgreSQL.
pub fn fts_filter(conn: &super::DbConn, table: FtsTable, q: &SearchQuery) -> FtsFilter {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let (base, fts) = table.names();
    if super::dispatch::is_postgres(conn) {
        sql::<Bool>(&format!(
            "to_tsvector('simple', {base}.search_text) @@ to_tsquery('simple', "
        ))
        .bind::<Text, _>(q.tsquery())
        .sql(")")
    } else {
        sql::<Bool>(&format!(
            "{base}.id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH "
        ))
        .bind::<Text, _>(q.fts5())
        .sql(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_are_lower_cased_whole_words() {
        assert_eq!(normalize("Refund POLICY, v2.0!"), "refund policy v2 0");
        assert_eq!(normalize("Ｒｅｆｕｎｄ"), "refund");
        assert_eq!(normalize("café-au-lait"), "café au lait");
    }

    #[test]
    fn korean_and_japanese_runs_become_overlapping_pairs() {
        assert_eq!(normalize("환불요청 방법"), "환불 불요 요청 방법");
        assert_eq!(normalize("返金の手続き"), "返金 金の の手 手続 続き");
        assert_eq!(normalize("책"), "책");
        assert_eq!(normalize("VIP환불"), "vip 환불");
    }

    #[test]
    fn queries_normalise_the_same_way() {
        let q = SearchQuery::parse("  환불 ").unwrap();
        assert_eq!(q.tokens(), [QueryToken::Exact("환불".into())]);
        let q = SearchQuery::parse("Refund 환불요청").unwrap();
        assert_eq!(q.fts5(), "\"refund\" \"환불\" \"불요\" \"요청\"");
        assert_eq!(q.tsquery(), "'refund' & '환불' & '불요' & '요청'");
        let q = SearchQuery::parse("책").unwrap();
        assert_eq!(q.fts5(), "\"책\"*");
        assert_eq!(q.tsquery(), "'책':*");
        assert!(SearchQuery::parse(" !? ").is_none());
        assert!(
            SearchQuery::parse("\" OR 'x")
                .unwrap()
                .fts5()
                .contains("\"or\"")
        );
    }
}
