-- Runs once, when the compose file's PostgreSQL volume is first initialised.
-- Two roles: rentbook_owner owns the database and migrates the event store
-- (`rentbook db migrate`); rentbook_app is what the API and workers connect as, and may only
-- INSERT and SELECT the event log (views and tracking tables are its own).
\getenv owner_password RENTBOOK_OWNER_PASSWORD
\getenv app_password RENTBOOK_APP_PASSWORD
CREATE ROLE rentbook_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE rentbook_app LOGIN PASSWORD :'app_password';
ALTER DATABASE rentbook OWNER TO rentbook_owner;
-- PostgreSQL 15: the public schema belongs to the database owner, who grants the rest.
REVOKE ALL ON DATABASE rentbook FROM PUBLIC;
GRANT CONNECT ON DATABASE rentbook TO rentbook_owner, rentbook_app;
