-- The catalog: signed records of every origin, and the indexes that search
-- needed, kept in the same transaction as the records they are built from
-- (0002 drops those: search moved to memory).

-- Facts about this data folder: the origin it belongs to.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Every origin this node holds records of: the public key its records
-- verify with, and the highest seq held.
CREATE TABLE origins (
  origin     TEXT PRIMARY KEY,
  public_key BLOB,
  head_seq   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per (origin, kind, id): the latest signed version, a tombstone
-- once deleted. record holds the exact bytes the origin signed.
CREATE TABLE records (
  rid       INTEGER PRIMARY KEY,
  origin    TEXT    NOT NULL,
  kind      INTEGER NOT NULL,
  id        TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  deleted   INTEGER NOT NULL,
  record    BLOB    NOT NULL,
  signature BLOB    NOT NULL,
  UNIQUE (origin, kind, id)
) STRICT;
CREATE UNIQUE INDEX records_by_seq ON records (origin, seq);

-- Live tools, for sorting; rid is the record's.
CREATE TABLE tools (
  rid         INTEGER PRIMARY KEY,
  sort_name   TEXT    NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL
) STRICT;
CREATE INDEX tools_by_name ON tools (sort_name, rid);
CREATE INDEX tools_by_create_time ON tools (create_time, rid);
CREATE INDEX tools_by_update_time ON tools (update_time, rid);

-- Filterable values of live tools (origin, category, ogp_theme, license,
-- language, development_status, platform), for filters and facet counts.
CREATE TABLE tool_terms (
  facet TEXT    NOT NULL,
  value TEXT    NOT NULL,
  rid   INTEGER NOT NULL,
  PRIMARY KEY (facet, value, rid)
) STRICT, WITHOUT ROWID;
CREATE INDEX tool_terms_by_rid ON tool_terms (rid);

-- Full text of live tools: names, descriptions and features in every
-- language. Contentless: the text is in the records already. Prefixes of 2
-- and 3 letters are indexed, so that searching as one types ("par*") does
-- not walk every term that starts so.
CREATE VIRTUAL TABLE tools_fts USING fts5 (
  name, description, features,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);
-- A name match counts most, then descriptions, then features: the weights
-- of rankWeights in search.go.
INSERT INTO tools_fts (tools_fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 1.0)');

CREATE TABLE use_cases (
  rid         INTEGER PRIMARY KEY,
  sort_name   TEXT    NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL
) STRICT;
CREATE INDEX use_cases_by_name ON use_cases (sort_name, rid);
CREATE INDEX use_cases_by_create_time ON use_cases (create_time, rid);
CREATE INDEX use_cases_by_update_time ON use_cases (update_time, rid);

-- Filterable values of live use cases (origin, tool, country,
-- organization_kind, status, commitment).
CREATE TABLE use_case_terms (
  facet TEXT    NOT NULL,
  value TEXT    NOT NULL,
  rid   INTEGER NOT NULL,
  PRIMARY KEY (facet, value, rid)
) STRICT, WITHOUT ROWID;
CREATE INDEX use_case_terms_by_rid ON use_case_terms (rid);

-- Full text of live use cases: the organisation, the purpose, the tool and
-- the commitments.
CREATE VIRTUAL TABLE use_cases_fts USING fts5 (
  name, description, features,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);
INSERT INTO use_cases_fts (use_cases_fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 1.0)');
