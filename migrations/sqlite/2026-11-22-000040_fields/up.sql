-- Ticket fields (SPEC §3.5): the field catalogue of a service (customer and agent fields, system
-- and custom) and the customer-field layouts (the service default, or one per intake type).
-- Deleted custom fields stay as tombstones (deleted_at set) so their codes are never reused.
CREATE TABLE field_defs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    code TEXT NOT NULL,
    control TEXT NOT NULL,
    is_system BOOLEAN NOT NULL DEFAULT 0,
    -- Labels, help texts and placeholders per language, maximum length, options and default
    -- value, as JSON (what forms show; nothing here is filtered on).
    config TEXT NOT NULL DEFAULT '{}',
    required BOOLEAN NOT NULL DEFAULT 0,
    personal BOOLEAN NOT NULL DEFAULT 0,
    visible BOOLEAN NOT NULL DEFAULT 1,
    agent_permission TEXT NOT NULL DEFAULT 'agent',
    position INTEGER NOT NULL DEFAULT 0,
    deleted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Codes are unique per service, case-insensitively, tombstones included: never reusable.
CREATE UNIQUE INDEX field_defs_code_idx ON field_defs (service_id, lower(code));
CREATE INDEX field_defs_order_idx ON field_defs (service_id, audience, position);

CREATE TABLE field_layouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- NULL: the service's default layout; otherwise an intake type's own layout.
    category_id BIGINT REFERENCES categories (id) ON DELETE CASCADE,
    field_id BIGINT NOT NULL REFERENCES field_defs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX field_layouts_scope_idx ON field_layouts (service_id, category_id, position);
CREATE INDEX field_layouts_field_idx ON field_layouts (field_id);

-- System fields for the consultation services that already exist (new ones are seeded by the
-- application when they are created).
INSERT INTO field_defs (service_id, audience, code, control, is_system, config, required,
    personal, visible, agent_permission, position, deleted_at, created_at, updated_at)
SELECT s.id, d.column1, d.column2, d.column3, 1, d.column4, d.column5, d.column6,
    1, 'agent', d.column7, NULL,
    CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM services s CROSS JOIN (VALUES
    ('customer', 'category', 'dropdown', '{"labels":{"en":"Inquiry type","ko":"문의 유형","ja":"お問い合わせ種別"},"help":{},"placeholders":{},"max_length":0,"options":[],"default":""}', 1, 0, 0),
    ('customer', 'name', 'text', '{"labels":{"en":"Name","ko":"이름","ja":"お名前"},"help":{},"placeholders":{},"max_length":100,"options":[],"default":""}', 0, 0, 1),
    ('customer', 'mail', 'text', '{"labels":{"en":"E-mail","ko":"이메일","ja":"メールアドレス"},"help":{},"placeholders":{},"max_length":100,"options":[],"default":""}', 1, 1, 2),
    ('customer', 'phone', 'text', '{"labels":{"en":"Phone","ko":"전화번호","ja":"電話番号"},"help":{},"placeholders":{},"max_length":30,"options":[],"default":""}', 0, 1, 3),
    ('customer', 'subject', 'text', '{"labels":{"en":"Subject","ko":"제목","ja":"件名"},"help":{},"placeholders":{},"max_length":200,"options":[],"default":""}', 1, 0, 4),
    ('customer', 'content', 'textarea', '{"labels":{"en":"Inquiry","ko":"문의 내용","ja":"お問い合わせ内容"},"help":{},"placeholders":{},"max_length":5000,"options":[],"default":""}', 1, 0, 5),
    ('customer', 'attachment', 'file', '{"labels":{"en":"Attachments","ko":"첨부 파일","ja":"添付ファイル"},"help":{},"placeholders":{},"max_length":0,"options":[],"default":""}', 0, 0, 6),
    ('customer', 'personalAgree', 'agree', '{"labels":{"en":"Consent to the collection of personal data","ko":"개인정보 수집 및 이용 동의","ja":"個人情報の収集・利用への同意"},"help":{"en":"I agree that the personal data I enter in this form (such as my e-mail address and phone number) is collected and used to answer this inquiry.","ko":"문의에 답변하기 위해 이 양식에 입력한 개인정보(이메일 주소, 전화번호 등)를 수집하고 이용하는 데 동의합니다.","ja":"お問い合わせへの回答のため、このフォームに入力した個人情報（メールアドレス、電話番号など）が収集・利用されることに同意します。"},"placeholders":{"en":"I agree.","ko":"동의합니다.","ja":"同意します。"},"max_length":0,"options":[],"default":""}', 1, 0, 7),
    ('agent', 'resolutionType', 'dropdown', '{"labels":{"en":"Resolution type","ko":"처리 유형","ja":"処理種別"},"help":{},"placeholders":{},"max_length":0,"options":[],"default":""}', 0, 0, 0),
    ('agent', 'priority', 'dropdown', '{"labels":{"en":"Priority","ko":"우선순위","ja":"優先度"},"help":{},"placeholders":{},"max_length":0,"options":[{"value":"urgent","labels":{"en":"Urgent","ko":"긴급","ja":"緊急"}},{"value":"high","labels":{"en":"High","ko":"높음","ja":"高"}},{"value":"normal","labels":{"en":"Normal","ko":"보통","ja":"普通"}},{"value":"low","labels":{"en":"Low","ko":"낮음","ja":"低"}}],"default":"normal"}', 0, 0, 1)
) AS d
WHERE s.kind = 'cm';

INSERT INTO field_layouts (service_id, category_id, field_id, position)
SELECT f.service_id, NULL, f.id, f.position
FROM field_defs f
WHERE f.audience = 'customer'
  AND f.code IN ('name', 'mail', 'phone', 'subject', 'content', 'attachment');
