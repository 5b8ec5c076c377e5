-- slipway:expand
-- Expand: count visits in one row instead of a row per visit. The visits
-- table stays, so a release still on schema 1 keeps working; the count
-- starts from the rows it holds.
-- +goose Up
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL DEFAULT 0
);
INSERT INTO counters (name, value) SELECT 'visits', count(*) FROM visits;

-- +goose Down
DROP TABLE counters;
