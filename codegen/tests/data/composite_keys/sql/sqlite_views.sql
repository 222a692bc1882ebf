-- Basket sizes, on devices and on the embedded server alike.
CREATE VIEW basket_size AS
SELECT owner_id, number, count(*) AS lines, sum(quantity) AS items
  FROM basket_line
 WHERE NOT deleted
 GROUP BY owner_id, number;
