-- The churn example in PostgreSQL: the table that churn-postgres.ts reads, and a read-only user
-- for Retrain's workers. Run it as the table's owner, after choosing the reader's password:
--
--   psql "postgres://owner@host:5432/shop" -f examples/postgres/churn.sql
--
-- `npx retrain demo --database-url …` runs only the CREATE TABLE (when the table is absent) and
-- loads examples/data/churn.csv (when the table is empty); it creates no user.

-- Numbers are SQL numbers, so the pipeline's numeric features pass Retrain's type check (a
-- numeric feature of a text SQL type fails the run). The label is text: 'yes' or 'no'.
CREATE TABLE IF NOT EXISTS churn_customers (
  customer_id     text PRIMARY KEY,
  tenure_months   integer,
  monthly_spend   numeric(10, 2),
  support_tickets integer,
  seats           integer,
  plan            text,
  region          text,
  churned         text NOT NULL CHECK (churned IN ('yes', 'no')),
  -- When the label became known: what a query can window on.
  labelled_at     timestamptz NOT NULL
);

-- The user Retrain reads as. Its URL goes into CHURN_DATABASE_URL where the workers run:
--   postgres://retrain_reader:<password>@host:5432/shop
-- Replace the placeholder password before running this file.
CREATE ROLE retrain_reader LOGIN PASSWORD 'change-me';
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO retrain_reader', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO retrain_reader;
GRANT SELECT ON churn_customers TO retrain_reader;
-- Every transaction of this user starts read-only (Retrain also opens its own as READ ONLY).
ALTER ROLE retrain_reader SET default_transaction_read_only = on;
-- On PostgreSQL 14 and older, everyone may create tables in the public schema; take that away:
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC;
