-- Run once by the postgres image when its volume is new (deploy/compose.yml): POSTGRES_DB
-- made the shop database (heard); this makes the tracker store's, owned by the same user.
CREATE DATABASE heard_tracker OWNER heard;
