-- Foundation: organization, members, services, agents, groups, menu access, tokens, logs.
CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    org_uid TEXT NOT NULL UNIQUE,
    org_key_enc TEXT NOT NULL,
    logo_path TEXT,
    logo_mime TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL DEFAULT '',
    ui_lang TEXT NOT NULL DEFAULT 'ko',
    password_hash TEXT,
    is_org_admin BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    cti_id TEXT UNIQUE,
    cti_no TEXT UNIQUE,
    password_changed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_name_idx ON users (name);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    languages TEXT NOT NULL,
    default_lang TEXT NOT NULL,
    timezone TEXT NOT NULL,
    editor_type TEXT NOT NULL,
    features TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    open_api_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    service_key_enc TEXT,
    hc_frame_ancestors TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE service_members (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    perm_ticket BOOLEAN NOT NULL DEFAULT FALSE,
    perm_chat BOOLEAN NOT NULL DEFAULT FALSE,
    perm_phone BOOLEAN NOT NULL DEFAULT FALSE,
    perm_callback_assign BOOLEAN NOT NULL DEFAULT FALSE,
    perm_forward BOOLEAN NOT NULL DEFAULT FALSE,
    perm_view_logs BOOLEAN NOT NULL DEFAULT FALSE,
    perm_extract BOOLEAN NOT NULL DEFAULT FALSE,
    ticket_assignable BOOLEAN NOT NULL DEFAULT TRUE,
    chat_assignable BOOLEAN NOT NULL DEFAULT TRUE,
    assignment_control BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (service_id, user_id)
);
CREATE INDEX service_members_user_idx ON service_members (user_id);

CREATE TABLE agent_groups (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_order INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX agent_groups_order_idx ON agent_groups (service_id, display_order);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE menu_access (
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    menu TEXT NOT NULL,
    partial BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (service_id, menu)
);

CREATE TABLE menu_restrictions (
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    menu TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, menu, user_id)
);

CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    tree TEXT NOT NULL,
    parent_id BIGINT REFERENCES categories (id) ON DELETE CASCADE,
    level INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    names TEXT NOT NULL,
    helpcenter_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX categories_tree_idx ON categories (service_id, tree, parent_id, position);

CREATE TABLE account_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

CREATE TABLE login_events (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    login TEXT NOT NULL,
    kind TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_events_created_idx ON login_events (created_at);
CREATE INDEX login_events_user_idx ON login_events (user_id, created_at);
CREATE INDEX login_events_login_idx ON login_events (login, kind, created_at);
CREATE INDEX login_events_ip_idx ON login_events (ip, kind, created_at);

CREATE TABLE permission_audit (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT REFERENCES services (id) ON DELETE SET NULL,
    service_code TEXT NOT NULL DEFAULT '',
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    target_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    target_name TEXT NOT NULL,
    operation TEXT NOT NULL,
    before_value TEXT NOT NULL,
    after_value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX permission_audit_created_idx ON permission_audit (created_at);

CREATE TABLE smtp_settings (
    id BIGINT PRIMARY KEY NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    tls_mode TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    password_enc TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE company_infos (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    company_info TEXT NOT NULL,
    copyright TEXT NOT NULL,
    terms TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
