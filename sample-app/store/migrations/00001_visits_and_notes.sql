-- slipway:expand
-- The first schema: one row per visit, and notes.
-- +goose Up
CREATE TABLE visits (
    id         bigserial PRIMARY KEY,
    visited_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE notes (
    id         bigserial PRIMARY KEY,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE notes;
DROP TABLE visits;
