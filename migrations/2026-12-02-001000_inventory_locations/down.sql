-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-function -- a down migration removes what its up migration created

DROP TABLE inventory_moves;
DROP TABLE inventory_levels;
DROP TABLE stock_locations;
DROP FUNCTION inventory_levels_check_ledger();
DROP FUNCTION inventory_moves_check_follows();
DROP FUNCTION inventory_moves_refuse_change();
