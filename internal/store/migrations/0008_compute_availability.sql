-- Each worker's 5-minute buckets, and each GPU uuid's of a miner, as a ring
-- of 2048 bits (the newest bucket and the 2047 before it, position
-- bucket % 2048): what a weight pass reads instead of every bucket row of
-- the 169-hour window. The rows of compute_heartbeat_buckets stay for the
-- window's first bucket, which counts by its latest heartbeat. Rings are
-- built on heartbeat; a database from before this table gets them from its
-- bucket rows when the mechanism starts.
CREATE TABLE compute_availability (
    netuid  INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey  TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('worker', 'gpu')),
    subject TEXT NOT NULL,
    newest  BIGINT NOT NULL,
    bits    {{BLOB}} NOT NULL,
    PRIMARY KEY (netuid, hotkey, kind, subject)
);

-- A pass reads the window's first bucket a miner at a time.
DROP INDEX compute_heartbeat_buckets_bucket;
CREATE INDEX compute_heartbeat_buckets_bucket ON compute_heartbeat_buckets (netuid, bucket, hotkey);

-- A pass counts each miner's workers and reads the leased ones from this
-- index alone; a worker's row, with its system_info, is a kilobyte.
CREATE INDEX compute_workers_lease ON compute_workers (netuid, hotkey, deleted_at, lease_score);
