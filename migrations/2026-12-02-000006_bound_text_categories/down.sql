SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE categories
    DROP CONSTRAINT categories_slug_length,
    DROP CONSTRAINT categories_name_length;
