-- Per-origin digests kept up to date by every write, so that comparing them
-- with a peer's costs nothing however many records an origin has:
-- record_count counts the origin's records (tombstones included), digest is
-- the XOR of SHA-256 over each record's kind, id and seq (see digest.go).
-- NULL until the catalog computes it from the records, when it opens.
ALTER TABLE origins ADD COLUMN record_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE origins ADD COLUMN digest BLOB;
