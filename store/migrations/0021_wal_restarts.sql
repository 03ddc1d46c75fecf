-- One row the checkpointer writes right after a checkpoint that copied the whole WAL,
-- so that the WAL starts over — a header write and an fsync — in its time rather than
-- inside the commit of the next request (checkpoint.go). n counts those restarts.
CREATE TABLE wal_restarts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO wal_restarts (id) VALUES (1);
