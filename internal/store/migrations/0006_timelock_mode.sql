-- Timelocked commits get a mode of their own, 'timelock', apart from hash
-- commits ('commit'). A CHECK constraint cannot be altered on every engine,
-- so the table is rebuilt with its rows and ids. The weight loop makes no
-- hash commits: every commit journaled before was timelocked.
CREATE TABLE weight_submissions_next (
    id             {{ID}},
    created_at     {{TIMESTAMP}} NOT NULL,
    updated_at     {{TIMESTAMP}} NOT NULL,
    netuid         INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    block          BIGINT NOT NULL CHECK (block >= 0),
    mode           TEXT NOT NULL CHECK (mode IN ('set', 'commit', 'timelock', 'reveal')),
    uids           TEXT NOT NULL,
    weights        TEXT NOT NULL,
    version_key    BIGINT NOT NULL CHECK (version_key >= 0),
    tx_hash        TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL CHECK (outcome IN ('pending', 'included', 'finalized', 'failed')),
    error          TEXT NOT NULL DEFAULT '',
    included_block BIGINT,
    genesis        TEXT NOT NULL DEFAULT '',
    reveal_epoch   BIGINT,
    reveal_block   BIGINT,
    reveal         TEXT NOT NULL DEFAULT '',
    mechanism      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO weight_submissions_next (id, created_at, updated_at, netuid, block, mode, uids, weights, version_key, tx_hash,
    outcome, error, included_block, genesis, reveal_epoch, reveal_block, reveal, mechanism)
SELECT id, created_at, updated_at, netuid, block, CASE mode WHEN 'commit' THEN 'timelock' ELSE mode END, uids, weights,
    version_key, tx_hash, outcome, error, included_block, genesis, reveal_epoch, reveal_block, reveal, mechanism
FROM weight_submissions;
DROP TABLE weight_submissions;
ALTER TABLE weight_submissions_next RENAME TO weight_submissions;
CREATE INDEX weight_submissions_netuid_block ON weight_submissions (netuid, block);
CREATE INDEX weight_submissions_chain ON weight_submissions (genesis, netuid, block);
{{AFTER_WEIGHT_SUBMISSIONS_REBUILD}}
