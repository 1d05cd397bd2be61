-- Open API, e-mail settings and signing (API.md §2.3, §7.10; SPEC §3.7):
-- the representative account of a service (one platform address per service, unique in the
-- installation, never changed once created), and the signatures of accepted signed calls
-- until their timestamp leaves the ±5-minute window, so a replay is refused by every process
-- that shares the database (insert-or-conflict = replay).
CREATE TABLE mail_representatives (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mail_representatives_address ON mail_representatives (address);

CREATE TABLE api_replay_guard (
    signature_hash TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX api_replay_guard_expires ON api_replay_guard (expires_at);
