-- What a node last knew of each member's replication, so that a member
-- down when the node restarts is still listed, with its last sync and
-- lag: when a pull from it last succeeded, and the head it last announced.
ALTER TABLE peers ADD COLUMN last_sync_time INTEGER NOT NULL DEFAULT 0; -- Unix microseconds; 0: never
ALTER TABLE peers ADD COLUMN head_seq INTEGER NOT NULL DEFAULT 0;
