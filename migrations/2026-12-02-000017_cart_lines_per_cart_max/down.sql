SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-function -- a down migration removes what its up migration created

DROP TRIGGER cart_lines_per_cart_max_moved ON cart_lines;
DROP TRIGGER cart_lines_per_cart_max_added ON cart_lines;
DROP FUNCTION cart_lines_per_cart_max_moved();
DROP FUNCTION cart_lines_per_cart_max_added();
DROP FUNCTION cart_lines_refuse_over_max(bigint[]);
