-- A compute (SN128) reference validator's database at alembic revision
-- 3b7f9d12c8ab, written from the table layout its specification gives:
-- what a reference validator's SQLAlchemy models create, on SQLite or
-- PostgreSQL. Timestamps are naive UTC. {{ID}}, {{TS}} and {{JSON}} are
-- the engine's key, timestamp and JSON types.

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL PRIMARY KEY
);

CREATE TABLE miner_info (
    id                  {{ID}},
    hotkey              VARCHAR(256) NOT NULL UNIQUE,
    miner_version       VARCHAR(32),
    public_ip           VARCHAR(45),
    is_online           BOOLEAN NOT NULL,
    last_heartbeat      {{TS}},
    last_challenge_time {{TS}},
    current_weight      FLOAT,
    last_weight_update  {{TS}},
    created_at          {{TS}} NOT NULL,
    updated_at          {{TS}},
    deleted_at          {{TS}}
);
CREATE INDEX idx_miner_online ON miner_info (is_online);
CREATE INDEX idx_heartbeat_time ON miner_info (last_heartbeat);

CREATE TABLE worker_info (
    id                      {{ID}},
    worker_id               VARCHAR(256) NOT NULL,
    hotkey                  VARCHAR(256) NOT NULL REFERENCES miner_info (hotkey),
    worker_name             VARCHAR(128),
    worker_version          VARCHAR(32),
    capabilities            {{JSON}},
    is_online               BOOLEAN NOT NULL,
    last_heartbeat          {{TS}},
    next_heartbeat_deadline {{TS}},
    tasks_completed         INTEGER NOT NULL DEFAULT 0,
    tasks_failed            INTEGER NOT NULL DEFAULT 0,
    avg_task_time_ms        FLOAT,
    lease_score             FLOAT,
    lease_updated_at        {{TS}},
    created_at              {{TS}} NOT NULL,
    updated_at              {{TS}},
    deleted_at              {{TS}}
);
CREATE UNIQUE INDEX idx_worker_hotkey_worker_id ON worker_info (hotkey, worker_id);
CREATE INDEX idx_worker_hotkey_lease_active ON worker_info (hotkey, lease_score) WHERE deleted_at IS NULL;

CREATE TABLE hardware_info (
    id                       {{ID}},
    hotkey                   VARCHAR(256) NOT NULL REFERENCES miner_info (hotkey),
    worker_id                VARCHAR(256) NOT NULL,
    cpu_count                INTEGER,
    cpu_brand                VARCHAR(128),
    cpu_model                VARCHAR(256),
    cpu_architecture         VARCHAR(64),
    cpu_frequency_mhz        FLOAT,
    cpu_max_frequency_mhz    FLOAT,
    cpu_info                 {{JSON}},
    memory_total_mb          INTEGER,
    memory_type              VARCHAR(32),
    memory_frequency_mhz     INTEGER,
    memory_info              {{JSON}},
    disk_total_gb            INTEGER,
    disk_type                VARCHAR(32),
    storage_info             {{JSON}},
    gpu_count                INTEGER,
    gpu_info                 {{JSON}},
    motherboard_brand        VARCHAR(128),
    motherboard_model        VARCHAR(256),
    motherboard_bios_version VARCHAR(128),
    motherboard_info         {{JSON}},
    system_os                VARCHAR(64),
    system_os_version        VARCHAR(128),
    system_kernel_version    VARCHAR(128),
    system_info              {{JSON}},
    uptime_seconds           FLOAT,
    avg_cpu_usage            FLOAT,
    avg_memory_usage         FLOAT,
    created_at               {{TS}} NOT NULL,
    updated_at               {{TS}},
    deleted_at               {{TS}},
    UNIQUE (hotkey, worker_id)
);

CREATE TABLE gpu_inventory (
    id                      {{ID}},
    gpu_uuid                VARCHAR(64) NOT NULL,
    hotkey                  VARCHAR(256) NOT NULL REFERENCES miner_info (hotkey),
    worker_id               VARCHAR(256),
    gpu_model               VARCHAR(256),
    gpu_memory_total        INTEGER,
    gpu_memory_free         INTEGER,
    compute_capability      VARCHAR(16),
    multiprocessor_count    INTEGER,
    clock_rate              INTEGER,
    architecture            VARCHAR(64),
    successful_challenges   INTEGER NOT NULL DEFAULT 0,
    failed_challenges       INTEGER NOT NULL DEFAULT 0,
    avg_computation_time_ms FLOAT,
    last_activity_at        {{TS}},
    is_active               BOOLEAN NOT NULL DEFAULT TRUE,
    last_seen_at            {{TS}},
    gpu_info                {{JSON}},
    created_at              {{TS}} NOT NULL,
    updated_at              {{TS}},
    deleted_at              {{TS}}
);
CREATE UNIQUE INDEX idx_gpu_uuid ON gpu_inventory (gpu_uuid);

CREATE TABLE heartbeat_records (
    id                  {{ID}},
    hotkey              VARCHAR(256) NOT NULL,
    worker_id           VARCHAR(256),
    cpu_usage           FLOAT,
    memory_usage        FLOAT,
    memory_available_mb FLOAT,
    disk_free_gb        FLOAT,
    gpu_utilization     {{JSON}},
    public_ip           VARCHAR(45),
    created_at          {{TS}} NOT NULL,
    updated_at          {{TS}},
    deleted_at          {{TS}}
);
CREATE INDEX idx_heartbeat_hotkey_time ON heartbeat_records (hotkey, created_at);
CREATE INDEX idx_heartbeat_created ON heartbeat_records (created_at);
CREATE INDEX idx_heartbeat_active_worker_time ON heartbeat_records (hotkey, worker_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE compute_challenges (
    id                   {{ID}},
    challenge_id         VARCHAR(128) NOT NULL UNIQUE,
    hotkey               VARCHAR(256) NOT NULL,
    worker_id            VARCHAR(256),
    challenge_type       VARCHAR(32) NOT NULL,
    challenge_data       {{JSON}},
    sent_at              {{TS}},
    expires_at           {{TS}},
    computation_time_ms  FLOAT,
    computed_at          {{TS}},
    merkle_commitments   {{JSON}},
    verification_targets {{JSON}},
    debug_info           {{JSON}},
    challenge_status     VARCHAR(20) NOT NULL,
    verification_result  BOOLEAN,
    verification_notes   TEXT,
    verification_time_ms FLOAT,
    verified_at          {{TS}},
    is_success           BOOLEAN,
    success_count        INTEGER,
    created_at           {{TS}} NOT NULL,
    updated_at           {{TS}},
    deleted_at           {{TS}}
);
CREATE INDEX idx_challenge_status_created ON compute_challenges (challenge_status, created_at);

CREATE TABLE meshhub_tasks (
    id             {{ID}},
    task_id        VARCHAR(64) NOT NULL UNIQUE,
    worker_id      VARCHAR(256),
    hotkey         VARCHAR(64),
    task_type      VARCHAR(32),
    task_config    {{JSON}},
    priority       INTEGER,
    status         VARCHAR(20) NOT NULL DEFAULT 'pending',
    sent_at        {{TS}},
    expires_at     {{TS}},
    completed_at   {{TS}},
    failure_reason TEXT,
    created_at     {{TS}} NOT NULL,
    updated_at     {{TS}},
    deleted_at     {{TS}}
);

CREATE TABLE network_weights (
    id                 {{ID}},
    hotkey             VARCHAR(256) NOT NULL,
    weight_value       FLOAT NOT NULL,
    calculation_remark TEXT,
    apply_remark       VARCHAR(256),
    challenge_score    FLOAT,
    availability_score FLOAT,
    lease_score        FLOAT,
    is_applied         BOOLEAN NOT NULL DEFAULT FALSE,
    applied_at         {{TS}},
    created_at         {{TS}} NOT NULL,
    updated_at         {{TS}},
    deleted_at         {{TS}}
);
CREATE INDEX idx_weights_hotkey_created ON network_weights (hotkey, created_at);

CREATE TABLE network_logs (
    id                 {{ID}},
    direction          VARCHAR(16),
    endpoint           VARCHAR(255),
    synapse_type       VARCHAR(64),
    hotkey             VARCHAR(256),
    worker_id          VARCHAR(256),
    client_ip          VARCHAR(45),
    client_port        INTEGER,
    raw_synapse_data   {{JSON}},
    decrypted_data     {{JSON}},
    encryption_method  VARCHAR(32),
    error_code         INTEGER,
    error_message      TEXT,
    response_data      {{JSON}},
    processing_time_ms FLOAT,
    created_at         {{TS}} NOT NULL,
    updated_at         {{TS}},
    deleted_at         {{TS}}
);
