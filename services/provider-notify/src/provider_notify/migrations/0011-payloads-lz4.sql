-- The events kept as sent can pass the 2 kB at which PostgreSQL compresses a row's wide values;
-- lz4 does that in about half the CPU of the default pglz. Only values written from now on change.
ALTER TABLE assignments ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE withdrawals ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE reminders ALTER COLUMN payload SET COMPRESSION lz4;
