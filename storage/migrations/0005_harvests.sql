-- What harvests wrote. For each entry of a source, the record it became
-- (a tool id of the node's origin), the seq of the version the harvest
-- wrote (a record with a later seq was edited by hand since) and a hash of
-- the entry as the source gave it (the same hash next time: nothing to
-- write).
CREATE TABLE harvest_entries (
  source    TEXT    NOT NULL,
  source_id TEXT    NOT NULL,
  id        TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  hash      BLOB    NOT NULL,
  PRIMARY KEY (source, source_id)
) STRICT;

-- The reports of harvest runs, as serialized ogp.catalog.v1.HarvestRun
-- messages; the last ones of each source are kept.
CREATE TABLE harvest_runs (
  run    INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT    NOT NULL,
  report BLOB    NOT NULL
) STRICT;
CREATE INDEX harvest_runs_by_source ON harvest_runs (source, run);
