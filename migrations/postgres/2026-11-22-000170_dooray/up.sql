-- Dooray! transfer (SPEC §3.14, §5.8, API.md §7.11): per-service settings (enabled, paused,
-- task templates), the registered Dooray! organizations (tenant token encrypted) and their
-- projects, the agents' Dooray! member keys per organization, the tasks created from tickets
-- and the mirrored task conversation (comments sent and received through the webhook).
CREATE TABLE dooray_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    subject_template TEXT NOT NULL DEFAULT '',
    body_template TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE dooray_orgs (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    tenant_ref TEXT NOT NULL,
    api_base TEXT NOT NULL,
    token_enc TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX dooray_orgs_tenant ON dooray_orgs (service_id, tenant_ref);

CREATE TABLE dooray_projects (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES dooray_orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    project_ref TEXT NOT NULL,
    registrant_ref TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX dooray_projects_ref ON dooray_projects (org_id, project_ref);

CREATE TABLE dooray_member_keys (
    org_id BIGINT NOT NULL REFERENCES dooray_orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    member_ref TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE dooray_tasks (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES dooray_projects (id) ON DELETE SET NULL,
    tenant_ref TEXT NOT NULL,
    project_ref TEXT NOT NULL,
    post_ref TEXT NOT NULL,
    task_number TEXT NOT NULL DEFAULT '',
    web_url TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    workflow_class TEXT NOT NULL DEFAULT 'registered',
    workflow_name TEXT NOT NULL DEFAULT '',
    registrant_ref TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    client_token TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dooray_tasks_post ON dooray_tasks (service_id, post_ref);
CREATE INDEX dooray_tasks_ticket ON dooray_tasks (ticket_id, id);

CREATE TABLE dooray_comments (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES dooray_tasks (id) ON DELETE CASCADE,
    comment_ref TEXT NOT NULL DEFAULT '',
    outgoing BOOLEAN NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dooray_comments_task ON dooray_comments (task_id, id);
CREATE INDEX dooray_comments_ref ON dooray_comments (task_id, comment_ref);
