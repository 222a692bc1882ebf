-- Read by extra_sql.toml, which lists it twice.
CREATE VIEW list_ids AS SELECT id FROM list;
