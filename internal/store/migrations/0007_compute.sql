-- The compute mechanism (SN128-compatible): miners and their workers as
-- their heartbeats describe them, the GPUs they report, availability as
-- 5-minute buckets and runs of public IPs (not a row per heartbeat), the
-- challenges with their state, commitments, targets and, while they are
-- verified, their proofs, and every weight pass with its factors. Every
-- table is per netuid: one validator may serve several compute subnets.

CREATE TABLE compute_miners (
    netuid         INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey         TEXT NOT NULL,
    first_seen     {{TIMESTAMP}} NOT NULL,
    last_heartbeat {{TIMESTAMP}} NOT NULL,
    miner_version  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (netuid, hotkey)
);

-- lease_score comes only from MeshHub. deleted_at is never set by the
-- reference; rows are kept so old worker ids keep diluting the lease
-- average as they do there.
CREATE TABLE compute_workers (
    netuid           INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey           TEXT NOT NULL,
    worker_id        TEXT NOT NULL,
    worker_name      TEXT NOT NULL DEFAULT '',
    worker_version   TEXT NOT NULL DEFAULT '',
    capabilities     TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL DEFAULT 'online',
    system_info      TEXT NOT NULL DEFAULT '{}',
    public_ip        TEXT NOT NULL DEFAULT '',
    lease_score      DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (lease_score >= 0 AND lease_score <= 1),
    first_seen       {{TIMESTAMP}} NOT NULL,
    last_heartbeat   {{TIMESTAMP}} NOT NULL,
    deleted_at       {{TIMESTAMP}},
    tasks_completed  BIGINT NOT NULL DEFAULT 0,
    tasks_failed     BIGINT NOT NULL DEFAULT 0,
    avg_task_time_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (netuid, hotkey, worker_id)
);

-- The GPUs a worker reported: the commitment check reads a worker's, the
-- ranking's ownership filter reads a uuid's.
CREATE TABLE compute_gpus (
    netuid    INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey    TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    uuid      TEXT NOT NULL,
    model     TEXT NOT NULL DEFAULT '',
    last_seen {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (netuid, hotkey, worker_id, uuid)
);
CREATE INDEX compute_gpus_uuid ON compute_gpus (netuid, uuid, last_seen);

-- One row per worker per 5-minute bucket it heartbeated in: the bucket's
-- latest heartbeat (the window's first bucket counts by it) and the GPU
-- uuids its miner reported in it.
CREATE TABLE compute_heartbeat_buckets (
    netuid    INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey    TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    bucket    BIGINT NOT NULL,
    latest_at {{TIMESTAMP}} NOT NULL,
    gpu_uuids TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (netuid, hotkey, worker_id, bucket)
);
CREATE INDEX compute_heartbeat_buckets_bucket ON compute_heartbeat_buckets (netuid, bucket);

-- Runs of one public IP in a worker's heartbeats (empty ones skipped): a
-- new run is a change, which the availability rule penalises.
CREATE TABLE compute_ip_runs (
    netuid    INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    hotkey    TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    ip        TEXT NOT NULL,
    first_at  {{TIMESTAMP}} NOT NULL,
    last_at   {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (netuid, hotkey, worker_id, first_at)
);

-- created → sent → committed → verifying → verified | failed. proof holds
-- the phase-2 data while the challenge waits for its verification (the
-- verification queue survives a restart) and is cleared after.
CREATE TABLE compute_challenges (
    netuid               INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    challenge_id         TEXT NOT NULL,
    hotkey               TEXT NOT NULL,
    worker_id            TEXT NOT NULL,
    kind                 TEXT NOT NULL CHECK (kind IN ('cpu_matrix', 'gpu_matrix')),
    data                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('created', 'sent', 'committed', 'verifying', 'verified', 'failed')),
    created_at           {{TIMESTAMP}} NOT NULL,
    sent_at              {{TIMESTAMP}},
    expires_at           {{TIMESTAMP}},
    computed_at          {{TIMESTAMP}},
    computation_time_ms  DOUBLE PRECISION,
    commitments          TEXT NOT NULL DEFAULT '{}',
    targets              TEXT NOT NULL DEFAULT '{}',
    proof                TEXT,
    debug_info           TEXT NOT NULL DEFAULT '{}',
    verified_at          {{TIMESTAMP}},
    success_count        INTEGER NOT NULL DEFAULT 0,
    is_success           BOOLEAN NOT NULL DEFAULT FALSE,
    verification_notes   TEXT NOT NULL DEFAULT '',
    verification_time_ms DOUBLE PRECISION,
    PRIMARY KEY (netuid, challenge_id)
);
CREATE INDEX compute_challenges_miner ON compute_challenges (netuid, hotkey, status);
CREATE INDEX compute_challenges_worker ON compute_challenges (netuid, hotkey, worker_id, status);
CREATE INDEX compute_challenges_status ON compute_challenges (netuid, status, created_at);

-- Every weight pass: each active miner's uid, score, weight and factors.
CREATE TABLE compute_weight_passes (
    id     {{ID}},
    netuid INTEGER NOT NULL CHECK (netuid BETWEEN 0 AND 65535),
    at     {{TIMESTAMP}} NOT NULL,
    miners TEXT NOT NULL
);
CREATE INDEX compute_weight_passes_netuid_at ON compute_weight_passes (netuid, at);
