-- The team's own reporting: a view of basket sizes, readable by every role, and a function.
CREATE VIEW basket_size AS
SELECT owner_id, number, count(*) AS lines, sum(quantity) AS items
  FROM basket_line
 WHERE NOT deleted
 GROUP BY owner_id, number;

GRANT SELECT ON basket_size TO PUBLIC;

CREATE FUNCTION basket_items(account uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(quantity), 0) FROM basket_line WHERE owner_id = account AND NOT deleted
$$;
