-- The affine x coordinate of each signature's point R (SignedRecord.r_x),
-- kept to be served with the record: a receiver checks it in a few
-- multiplications, where computing it takes a square root. The signer
-- writes it; a node that receives a record without it computes it as it
-- verifies the signature. NULL for the records written before, which are
-- served without it.
ALTER TABLE records ADD COLUMN r_x BLOB;
