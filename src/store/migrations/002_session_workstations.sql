-- What the session manager needs beyond the seed's columns (owned by sessions/).

-- Who is working on a session right now (starting or stopping it): a later run tells a
-- live owner from one that was killed mid-start by these, and reconciles the session.
ALTER TABLE sessions ADD COLUMN owner_host text;
ALTER TABLE sessions ADD COLUMN owner_pid integer CHECK (owner_pid > 0);
ALTER TABLE sessions ADD COLUMN owner_instance text;

-- Warm-pool members are sessions that nobody has claimed yet: they stay `starting`, hold
-- their ports honestly under their own id, and carry the key of the pool they belong to.
-- A claim clears pool_key and makes the session active.
ALTER TABLE sessions ADD COLUMN pool_key text;
ALTER TABLE sessions ADD COLUMN pool_ready_at timestamptz;
ALTER TABLE sessions ADD COLUMN pool_expires_at timestamptz;
CREATE INDEX sessions_pool_idx ON sessions (pool_key, created_at) WHERE pool_key IS NOT NULL;
