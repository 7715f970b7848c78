-- The seed's tables with tighter types and constraints, plus the events table.

CREATE TABLE sessions (
    id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,128}$'),
    user_id text NOT NULL,
    model text NOT NULL,
    provider text NOT NULL,
    status text NOT NULL DEFAULT 'starting'
        CHECK (status IN ('starting', 'active', 'stopping', 'ended', 'crashed')),
    status_reason text,
    workspace_dir text,
    container_id text,
    vnc_port integer CHECK (vnc_port BETWEEN 1 AND 65535),
    cdp_port integer CHECK (cdp_port BETWEEN 1 AND 65535),
    -- The per-session VNC password, sealed with the master key (secrets/ envelope format).
    vnc_password_sealed text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    -- A session has an end time exactly when it is over.
    CHECK ((status IN ('ended', 'crashed')) = (ended_at IS NOT NULL))
);
CREATE INDEX sessions_status_idx ON sessions (status);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

-- One row per port in the configured ranges; rows are added when a range is first used.
CREATE TABLE port_allocations (
    port integer PRIMARY KEY CHECK (port BETWEEN 1 AND 65535),
    port_type text NOT NULL CHECK (port_type IN ('vnc', 'cdp')),
    session_id text REFERENCES sessions (id),
    allocated_at timestamptz,
    is_allocated boolean NOT NULL DEFAULT false,
    -- An allocated port always names its session and time; a free one names neither.
    CHECK (is_allocated = (session_id IS NOT NULL)),
    CHECK (is_allocated = (allocated_at IS NOT NULL))
);
-- At most one port of each type per session.
CREATE UNIQUE INDEX port_allocations_session_type_idx ON port_allocations (session_id, port_type) WHERE session_id IS NOT NULL;
CREATE INDEX port_allocations_free_idx ON port_allocations (port_type, port) WHERE NOT is_allocated;

-- Provider API keys, AES-256-GCM: ciphertext, its nonce and tag, and the id of the master key.
CREATE TABLE providers_auth (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_name text NOT NULL UNIQUE CHECK (provider_name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    encrypted_api_key bytea NOT NULL,
    nonce bytea NOT NULL CHECK (octet_length(nonce) = 12),
    auth_tag bytea NOT NULL CHECK (octet_length(auth_tag) = 16),
    encryption_key_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);

CREATE TABLE vnc_sessions (
    id text PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id),
    container_id text NOT NULL,
    vnc_port integer NOT NULL CHECK (vnc_port BETWEEN 1 AND 65535),
    cdp_port integer NOT NULL CHECK (cdp_port BETWEEN 1 AND 65535),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_activity timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX vnc_sessions_session_idx ON vnc_sessions (session_id);

-- The audit log: every session lifecycle event and every tool call. Transcripts and replays
-- are read from here, in id order.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$'),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    duration_ms double precision CHECK (duration_ms >= 0)
);
CREATE INDEX events_session_idx ON events (session_id, id);
