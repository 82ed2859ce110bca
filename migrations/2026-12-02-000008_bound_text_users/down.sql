SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE users
    DROP CONSTRAINT users_email_length,
    DROP CONSTRAINT users_name_length;
