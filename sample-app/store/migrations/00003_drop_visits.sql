-- slipway:contract
-- Contract: drop the per-visit rows nothing reads since schema 2. A release
-- built at schema 1 cannot run after this; Slipway runs it only when no
-- retained stack needs schema 1.
-- +goose Up
DROP TABLE visits;

-- +goose Down
CREATE TABLE visits (
    id         bigserial PRIMARY KEY,
    visited_at timestamptz NOT NULL DEFAULT now()
);
