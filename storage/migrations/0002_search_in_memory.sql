-- Search moved to an in-memory index (package search), built from the
-- records when the catalog opens: FTS5 scored every match of a query before
-- it could return the best ones, too slow for words most tools contain.
-- The search tables of 0001 go; the records are all search needs.
DROP TABLE tools_fts;
DROP TABLE use_cases_fts;
DROP TABLE tool_terms;
DROP TABLE use_case_terms;
DROP TABLE tools;
DROP TABLE use_cases;
