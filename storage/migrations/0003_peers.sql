-- The federation's members this node has seen, so that it rejoins them
-- after a restart without its seeds.
CREATE TABLE peers (
  origin      TEXT PRIMARY KEY,
  gossip_addr TEXT    NOT NULL,
  grpc_addr   TEXT    NOT NULL,
  seen_time   INTEGER NOT NULL -- Unix microseconds
) STRICT;
