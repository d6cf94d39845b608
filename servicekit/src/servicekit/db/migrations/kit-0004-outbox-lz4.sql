-- A payload with its headers can pass the 2 kB at which PostgreSQL compresses a row's wide
-- values; lz4 does that in about half the CPU of the default pglz (PostgreSQL 14 and later, built
-- with lz4 as the packaged servers are). Only values written from now on are affected.
ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN headers SET COMPRESSION lz4;
