-- On devices, the same rule as Postgres's trigger, before a local write reaches the outbox.
CREATE TRIGGER basket_line_quantity_limit BEFORE INSERT ON basket_line
  WHEN NEW.quantity > 10000
BEGIN
  SELECT RAISE(ABORT, 'a basket line holds at most 10000 items');
END;
