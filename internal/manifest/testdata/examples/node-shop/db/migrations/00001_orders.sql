-- slipway:expand
CREATE TABLE orders (id bigserial PRIMARY KEY);
