-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-function -- a down migration removes what its up migration created

DROP TABLE return_lines;
DROP TABLE returns;
DROP FUNCTION return_lines_check_units();
