-- A Kaspa (SN16) reference validator's mapping database at alembic
-- revision 01bca204c995, written from the table layout its specification
-- gives.

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL PRIMARY KEY
);

CREATE TABLE hotkey_worker (
    worker                VARCHAR NOT NULL PRIMARY KEY,
    hotkey                VARCHAR NOT NULL,
    registration_time     FLOAT NOT NULL,
    signature             VARCHAR NOT NULL,
    registration_time_int BIGINT NOT NULL,
    unbind_signature      VARCHAR
);

CREATE TABLE dynamic_config (
    key   VARCHAR NOT NULL PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE validator_sync_offset (
    hotkey                 VARCHAR NOT NULL PRIMARY KEY,
    last_registration_time FLOAT NOT NULL,
    last_sync_time         FLOAT NOT NULL
);

INSERT INTO alembic_version (version_num) VALUES ('01bca204c995');
