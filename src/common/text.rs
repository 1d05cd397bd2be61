//! Text and HTML: rich text sanitised with `ammonia` before it is stored, escaping, the plain
//! text of stored HTML (for search and mail), excerpts and URL-encoding.

/// Sanitises a rich-text body for storage. Text without any tag (typed into the plain textarea
/// when JavaScript is off) becomes escaped paragraphs; HTML goes through `ammonia`, which keeps
/// formatting, lists, tables and links (with `rel="noopener noreferrer"`) and drops scripts,
/// event handlers, styles and `javascript:` URLs. Only its output is ever rendered with `|safe`.
pub fn sanitize_html(input: &str) -> String {
    let input = input.trim();
    if input.is_empty() {
        return String::new();
    }
    if !input.contains('<') {
        return text_to_html(input);
    }
    let quill_classes: Vec<String> = ["center", "right", "justify"]
        .iter()
        .map(|a| format!("ql-align-{a}"))
        .chain((1..=8).map(|i| format!("ql-indent-{i}")))
        .collect();
    let classes: std::collections::HashSet<&str> =
        quill_classes.iter().map(String::as_str).collect();
    let mut builder = ammonia::Builder::default();
    builder.add_tags(["u", "s", "mark", "figure", "figcaption"]);
    for tag in ["p", "li", "h1", "h2", "h3", "h4", "blockquote", "pre"] {
        builder.add_allowed_classes(tag, classes.iter().copied());
    }
    builder.clean(input).to_string()
}

/// Plain text (a customer's message typed in a textarea) as escaped HTML paragraphs: blank
/// lines separate paragraphs, single line breaks become `<br>`. Markup in the text is shown,
/// never interpreted.
pub fn text_to_html(input: &str) -> String {
    input
        .trim()
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim()).replace('\n', "<br>")))
        .collect()
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The text of sanitised HTML: tags removed, block ends as line breaks, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "p" | "br"
                        | "li"
                        | "div"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "tr"
                        | "td"
                        | "th"
                        | "pre"
                        | "blockquote"
                ) {
                    out.push('\n');
                }
                tag.clear();
            } else {
                tag.push(c);
            }
        } else if c == '<' {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    decode_entities(&out)
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A short one-line excerpt of sanitised HTML.
pub fn excerpt(html: &str, max: usize) -> String {
    let text = html_to_text(html);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

/// Percent-encodes a string for use in a query value.
pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_removed() {
        let clean = sanitize_html(
            "<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:alert(1)\">x</a>\
             <a href=\"https://example.com\">ok</a></p><p class=\"ql-align-center evil\">c</p>",
        );
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("javascript"));
        assert!(clean.contains("href=\"https://example.com\""));
        assert!(clean.contains("class=\"ql-align-center\""));
    }

    #[test]
    fn plain_text_becomes_paragraphs() {
        assert_eq!(
            sanitize_html("a > b & c\nline\n\nnext"),
            "<p>a &gt; b &amp; c<br>line</p><p>next</p>"
        );
    }

    #[test]
    fn text_is_extracted_from_html() {
        let text = html_to_text("<p>Fish &amp; chips</p><p>&#54872;&nbsp;불</p>");
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Fish", "&", "chips", "환", "불"]
        );
        assert!(text.contains("chips\n"));
    }
}
