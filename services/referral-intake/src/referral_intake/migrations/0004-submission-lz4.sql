-- A submission kept whole is usually past the 2 kB at which PostgreSQL compresses a row's wide
-- values; lz4 does that in about half the CPU of the default pglz. Only values written from now
-- on change.
ALTER TABLE referrals ALTER COLUMN submission SET COMPRESSION lz4;
