-- What a session's model calls have cost so far: tokens and money, added after every step so
-- that a run stopped by its budget or an interrupt is counted too.
ALTER TABLE sessions ADD COLUMN input_tokens bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0);
ALTER TABLE sessions ADD COLUMN output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0);
ALTER TABLE sessions ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0);
ALTER TABLE sessions ADD COLUMN cost_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0);
