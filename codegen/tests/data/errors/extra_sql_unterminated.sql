-- Read by extra_sql.toml: a view that ends without a semicolon.
CREATE VIEW list_ids AS SELECT id FROM list
-- the end
