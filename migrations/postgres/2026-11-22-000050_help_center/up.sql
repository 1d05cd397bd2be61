-- Help center: configuration, FAQ, notices (headings, tags, templates), attachments, and the
-- full-text indexes over the normalised `search_text` columns (FTS5 kept in sync by triggers).
CREATE TABLE hc_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    show_notices BOOLEAN NOT NULL DEFAULT TRUE,
    show_faq BOOLEAN NOT NULL DEFAULT TRUE,
    show_inquiry BOOLEAN NOT NULL DEFAULT TRUE,
    show_history BOOLEAN NOT NULL DEFAULT TRUE,
    company_info_id BIGINT REFERENCES company_infos (id) ON DELETE SET NULL,
    custom_css TEXT NOT NULL DEFAULT '',
    logo_path TEXT,
    logo_mime TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE faqs (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    pin_main BOOLEAN NOT NULL DEFAULT FALSE,
    pin_category BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    editor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    search_text TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX faqs_list_idx ON faqs (service_id, status, id);
CREATE INDEX faqs_portal_idx ON faqs (service_id, status, pin_main, updated_at);
CREATE INDEX faqs_category_idx ON faqs (category_id, status);

CREATE TABLE faq_contents (
    faq_id BIGINT NOT NULL REFERENCES faqs (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    body_html TEXT NOT NULL,
    PRIMARY KEY (faq_id, lang)
);

CREATE TABLE notice_headings (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    names TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notice_headings_order_idx ON notice_headings (service_id, position);

CREATE TABLE notice_tags (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    names TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notice_tags_service_idx ON notice_tags (service_id, id);

CREATE TABLE notices (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    heading_id BIGINT NOT NULL REFERENCES notice_headings (id),
    status TEXT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    display_date TEXT NOT NULL,
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    view_count BIGINT NOT NULL DEFAULT 0,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    editor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    search_text TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notices_list_idx ON notices (service_id, status, id);
CREATE INDEX notices_portal_idx ON notices (service_id, status, pinned, display_date, id);
CREATE INDEX notices_heading_idx ON notices (heading_id);

CREATE TABLE notice_contents (
    notice_id BIGINT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    body_html TEXT NOT NULL,
    PRIMARY KEY (notice_id, lang)
);

CREATE TABLE notice_tag_links (
    notice_id BIGINT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES notice_tags (id) ON DELETE CASCADE,
    PRIMARY KEY (notice_id, tag_id)
);
CREATE INDEX notice_tag_links_tag_idx ON notice_tag_links (tag_id, notice_id);

CREATE TABLE notice_templates (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    heading_id BIGINT REFERENCES notice_headings (id) ON DELETE SET NULL,
    tag_ids TEXT NOT NULL DEFAULT '',
    contents TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notice_templates_service_idx ON notice_templates (service_id, id);

CREATE TABLE hc_attachments (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    faq_id BIGINT REFERENCES faqs (id) ON DELETE CASCADE,
    notice_id BIGINT REFERENCES notices (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX hc_attachments_faq_idx ON hc_attachments (faq_id);
CREATE INDEX hc_attachments_notice_idx ON hc_attachments (notice_id);

-- Full-text search over the normalised `search_text` (space-separated tokens: lower-cased Latin
-- words and two-character pieces of Korean/Japanese runs) with the 'simple' configuration, which
-- neither stems nor drops stop words, so hits are the same as SQLite's FTS5 index.
CREATE INDEX faqs_search_idx ON faqs USING GIN (to_tsvector('simple', search_text));
CREATE INDEX notices_search_idx ON notices USING GIN (to_tsvector('simple', search_text));
