-- The Kaspa mechanism's hotkey↔worker registry: bindings signed by the
-- hotkey, made here or copied from peer validators, and signed unbinds kept
-- as tombstones so a worker name is never bound again and peers learn of it.

-- One row. last_seq numbers every change to kaspa_worker_mappings; writers
-- bump it first in their transaction, which also serialises them, so a
-- change feed read by seq never skips a row committed late. instance names
-- this database, so peers notice when it was replaced and seqs restart.
CREATE TABLE kaspa_registry_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL CHECK (last_seq >= 0),
    instance TEXT NOT NULL
);
INSERT INTO kaspa_registry_state (id, last_seq, instance) VALUES (1, 0, '');

-- worker → hotkey, the worker name being global: bound at most once, ever.
-- registration_time is the signed float (unix seconds) exactly as signed;
-- registration_time_int is int(registration_time × 1e6), the reference's
-- paging key. source is 'local' or the hotkey of the peer it came from.
CREATE TABLE kaspa_worker_mappings (
    worker                TEXT PRIMARY KEY,
    hotkey                TEXT NOT NULL,
    registration_time     DOUBLE PRECISION NOT NULL,
    registration_time_int BIGINT NOT NULL,
    signature             TEXT NOT NULL,
    source                TEXT NOT NULL,
    created_at            {{TIMESTAMP}} NOT NULL,
    unbind_signature      TEXT,
    unbound_at            {{TIMESTAMP}},
    unbind_source         TEXT,
    seq                   BIGINT NOT NULL UNIQUE,
    CHECK ((unbind_signature IS NULL) = (unbound_at IS NULL)),
    CHECK ((unbind_signature IS NULL) = (unbind_source IS NULL))
);
CREATE INDEX kaspa_worker_mappings_active ON kaspa_worker_mappings (hotkey) WHERE unbind_signature IS NULL;
CREATE INDEX kaspa_worker_mappings_time ON kaspa_worker_mappings (registration_time_int, seq);

-- Sync cursor per peer validator: the reference's timestamp cursor for
-- peers that only speak it, the peer's change seq for peers that serve one.
CREATE TABLE kaspa_sync_offsets (
    hotkey                 TEXT PRIMARY KEY,
    last_registration_time DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_seq               BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    peer_instance          TEXT NOT NULL DEFAULT '',
    last_sync_at           {{TIMESTAMP}} NOT NULL
);
