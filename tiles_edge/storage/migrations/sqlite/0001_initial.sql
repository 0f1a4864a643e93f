-- Initial schema. Booleans are INTEGER 0/1; timestamps are UTC seconds since the epoch
-- (REAL, except kpi_sensor_readings.recorded_at, which is INTEGER); JSON values are TEXT
-- checked with json_valid(). Token columns hold SHA-256 hex digests, never tokens.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(username) BETWEEN 1 AND 255),
    password_hash TEXT,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    auth_enabled INTEGER NOT NULL DEFAULT 1 CHECK (auth_enabled IN (0, 1)),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_login_at REAL
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE
        CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    timeout_minutes INTEGER NOT NULL CHECK (timeout_minutes > 0),
    ip_address TEXT,
    user_agent TEXT,
    kind TEXT NOT NULL DEFAULT 'password' CHECK (length(kind) BETWEEN 1 AND 32)
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    token_hash TEXT NOT NULL UNIQUE
        CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE user_preferences (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    key TEXT NOT NULL,
    value_json TEXT NOT NULL CHECK (json_valid(value_json)),
    updated_at REAL NOT NULL,
    PRIMARY KEY (user_id, category, key)
) WITHOUT ROWID;

CREATE TABLE user_settings (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value_json TEXT NOT NULL CHECK (json_valid(value_json)),
    updated_at REAL NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;

-- The access token is stored as given because every hub call sends it; the webhook token
-- that hubs send to us is stored as its SHA-256 hex only.
CREATE TABLE hub_configurations (
    hub_id TEXT PRIMARY KEY
        CHECK (length(hub_id) BETWEEN 1 AND 32 AND hub_id NOT GLOB '*[^a-z0-9_-]*'
               AND substr(hub_id, 1, 1) NOT IN ('_', '-')),
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    app_id TEXT NOT NULL,
    token TEXT NOT NULL,
    transport TEXT NOT NULL DEFAULT 'eventsocket'
        CHECK (transport IN ('eventsocket', 'webhook', 'poll')),
    sort_order INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    webhook_token_hash TEXT
        CHECK (webhook_token_hash IS NULL
               OR (length(webhook_token_hash) = 64
                   AND webhook_token_hash NOT GLOB '*[^0-9a-f]*')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;

-- user_id NULL is the household-wide selection. SQLite treats NULLs as distinct in a
-- UNIQUE constraint, so uniqueness is on ifnull(user_id, 0); user ids start at 1.
CREATE TABLE device_selections (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    selection_type TEXT NOT NULL CHECK (length(selection_type) BETWEEN 1 AND 64),
    device_uid TEXT NOT NULL CHECK (length(device_uid) BETWEEN 1 AND 255),
    value_json TEXT CHECK (value_json IS NULL OR json_valid(value_json)),
    sort_order INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE UNIQUE INDEX device_selections_owner_type_uid
    ON device_selections (ifnull(user_id, 0), selection_type, device_uid);

CREATE TABLE device_matter_map (
    device_uid TEXT PRIMARY KEY,
    matter_node_id TEXT NOT NULL,
    endpoint INTEGER NOT NULL CHECK (endpoint BETWEEN 0 AND 65535),
    updated_at REAL NOT NULL,
    UNIQUE (matter_node_id, endpoint)
) WITHOUT ROWID;

CREATE TABLE kpi_sensor_readings (
    id INTEGER PRIMARY KEY,
    device_uid TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX kpi_sensor_readings_device_metric_time
    ON kpi_sensor_readings (device_uid, metric, recorded_at);
CREATE INDEX kpi_sensor_readings_time ON kpi_sensor_readings (recorded_at);

-- Server-wide values such as a stable instance id.
CREATE TABLE app_state (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL CHECK (json_valid(value_json)),
    updated_at REAL NOT NULL
) WITHOUT ROWID;
