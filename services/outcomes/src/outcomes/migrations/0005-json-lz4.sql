-- An episode's state is rewritten by every event applied to it and soon passes the 2 kB at which
-- PostgreSQL compresses a row's wide values; lz4 does that in about half the CPU of the default
-- pglz. Events kept whole (parked, refused) get the same. Only values written from now on change.
ALTER TABLE episodes ALTER COLUMN state SET COMPRESSION lz4;
ALTER TABLE parked ALTER COLUMN event SET COMPRESSION lz4;
ALTER TABLE refusals ALTER COLUMN event SET COMPRESSION lz4;
