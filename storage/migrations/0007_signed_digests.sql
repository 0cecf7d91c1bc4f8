-- A second digest per origin, over each record's signature too, so that two
-- versions of a record at one seq (an origin that signed both, having
-- written again after its catalog was restored from an older copy) differ
-- (see digest.go). NULL until the catalog computes it from the records, when
-- it opens.
ALTER TABLE origins ADD COLUMN signed_digest BLOB;
