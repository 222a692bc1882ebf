-- A business rule the format cannot say, as a trigger, and a support role's read policy beside
-- the generated ones.
CREATE FUNCTION basket_line_quantity_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.quantity > 10000 THEN
    RAISE EXCEPTION 'a basket line holds at most 10000 items';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER basket_line_quantity_limit BEFORE INSERT OR UPDATE OF quantity ON basket_line
  FOR EACH ROW EXECUTE FUNCTION basket_line_quantity_limit();

CREATE POLICY account_support_read ON account FOR SELECT
  USING (current_setting('app.support', true) = 'on');
