-- The validator core's audit trail and weight submission journal.
-- {{ID}}, {{TIMESTAMP}} and {{BLOB}} are replaced per engine (see migrate.go),
-- so this one file runs on SQLite and PostgreSQL alike.

CREATE TABLE events (
    id      {{ID}},
    at      {{TIMESTAMP}} NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_kind_at ON events (kind, at);

-- One row per attempt to put weights on chain. The weight loop reads it at
-- start to avoid submitting twice inside the chain's rate limit.
CREATE TABLE weight_submissions (
    id             {{ID}},
    created_at     {{TIMESTAMP}} NOT NULL,
    updated_at     {{TIMESTAMP}} NOT NULL,
    netuid         INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    block          BIGINT NOT NULL CHECK (block >= 0),
    mode           TEXT NOT NULL CHECK (mode IN ('set', 'commit', 'reveal')),
    uids           TEXT NOT NULL,
    weights        TEXT NOT NULL,
    version_key    BIGINT NOT NULL CHECK (version_key >= 0),
    tx_hash        TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL CHECK (outcome IN ('pending', 'included', 'finalized', 'failed')),
    error          TEXT NOT NULL DEFAULT '',
    included_block BIGINT
);
CREATE INDEX weight_submissions_netuid_block ON weight_submissions (netuid, block);
