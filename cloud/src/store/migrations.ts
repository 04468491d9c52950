import { DEFAULT_TIME_ZONE } from '@tusafishe/protocol';
import type { Db } from './db.js';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Channel NOTIFY'd after any statement that changes customers; wakes long-polling gateways. */
export const CUSTOMERS_CHANGED_CHANNEL = 'tusafishe_customers_changed';
/** Set for a transaction, turns its triggers' NOTIFY off: it notifies after its commit instead (migration 22). */
export const NOTIFY_AFTER_COMMIT_SETTING = 'tusafishe.notify_after_commit';
/** Channel NOTIFY'd when kiosk credentials change (a rotated secret): cached credentials are dropped. */
export const KIOSKS_CHANGED_CHANNEL = 'tusafishe_kiosks_changed';
/** Channel NOTIFY'd after any statement that writes what the console's live feed shows (migration 21). */
export const LIVE_CHANGED_CHANNEL = 'tusafishe_live_changed';
/** Advisory lock the rare check-then-change writers of customers hold (operators, imports); no longer the versions' (migration 18). */
export const CUSTOMER_VERSION_LOCK = 74_657_001;
/** Shared advisory lock (with the schema's hash) every customer change holds until commit; the change feed waits out its holders. */
export const CUSTOMER_WRITERS_LOCK = 74_657_018;
/** Advisory lock each migration step holds, so instances starting together migrate once. */
const MIGRATION_LOCK = CUSTOMER_VERSION_LOCK + 1;
/** Advisory lock a rebuild of the analytics rollups holds; merges take it shared. */
const ANALYTICS_REBUILD_LOCK = CUSTOMER_VERSION_LOCK + 9;

/** The body shared by both versions of analytics_add_dispenses (migrations 9 and 14). */
const ADD_DISPENSES_TO_ROLLUPS = `DECLARE zone text;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${ANALYTICS_REBUILD_LOCK});
  zone := (SELECT time_zone FROM analytics_settings);
  INSERT INTO kiosk_dispense_hours AS r (kiosk_id, hour, dispenses, volume_ml)
    SELECT kiosk_id, date_trunc('hour', to_timestamp(occurred_at / 1000.0)), count(*), -sum(amount_ml)
    FROM unnest(events) WHERE type = 'dispense' AND amount_ml < 0 AND kiosk_id IS NOT NULL AND account_id IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (kiosk_id, hour) DO UPDATE
      SET dispenses = r.dispenses + EXCLUDED.dispenses, volume_ml = r.volume_ml + EXCLUDED.volume_ml;
  INSERT INTO customer_dispense_days AS r (kiosk_id, day, account_id, dispenses, volume_ml)
    SELECT kiosk_id, (to_timestamp(occurred_at / 1000.0) AT TIME ZONE zone)::date, account_id, count(*), -sum(amount_ml)
    FROM unnest(events) WHERE type = 'dispense' AND amount_ml < 0 AND kiosk_id IS NOT NULL AND account_id IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (kiosk_id, day, account_id) DO UPDATE
      SET dispenses = r.dispenses + EXCLUDED.dispenses, volume_ml = r.volume_ml + EXCLUDED.volume_ml;
  INSERT INTO customer_dispense_months AS r (kiosk_id, month, account_id, dispenses, volume_ml)
    SELECT kiosk_id, date_trunc('month', to_timestamp(occurred_at / 1000.0) AT TIME ZONE zone)::date, account_id,
      count(*), -sum(amount_ml)
    FROM unnest(events) WHERE type = 'dispense' AND amount_ml < 0 AND kiosk_id IS NOT NULL AND account_id IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (kiosk_id, month, account_id) DO UPDATE
      SET dispenses = r.dispenses + EXCLUDED.dispenses, volume_ml = r.volume_ml + EXCLUDED.volume_ml;`;

/** Append-only: never edit a released migration, add the next one. */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE SEQUENCE customer_version;

CREATE TABLE kiosks (
  kiosk_id text PRIMARY KEY,
  name text NOT NULL,
  credential_hash text NOT NULL,
  tariff_currency text,
  tariff_price_minor integer CHECK (tariff_price_minor > 0),
  tariff_volume_ml integer CHECK (tariff_volume_ml > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  account_id text PRIMARY KEY,
  phone text NOT NULL UNIQUE,
  name text NOT NULL,
  pin_hash text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('active', 'inactive', 'suspended')),
  language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'sw')),
  expires_at bigint,
  daily_limit_ml integer,
  allowed_kiosks text[],
  locked_until bigint,
  balance_ml bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_version ON customers (version);

-- Every change to a customer, balance included, takes the next version under one lock,
-- so a gateway that has seen version v has seen every change numbered below v.
CREATE FUNCTION customers_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(${CUSTOMER_VERSION_LOCK});
  NEW.version := nextval('customer_version');
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER customers_version BEFORE INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_bump_version();

CREATE FUNCTION customers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CUSTOMERS_CHANGED_CHANNEL}', '');
  RETURN NULL;
END $$;
CREATE TRIGGER customers_changed AFTER INSERT OR UPDATE ON customers
  FOR EACH STATEMENT EXECUTE FUNCTION customers_notify();

CREATE TABLE ledger_events (
  event_id uuid PRIMARY KEY,
  type text NOT NULL,
  account_id text REFERENCES customers (account_id),
  amount_ml integer NOT NULL,
  kiosk_id text,
  dispenser_id text,
  source_id text,
  occurred_at bigint NOT NULL,
  details jsonb,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ledger_events_source ON ledger_events (type, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX ledger_events_account ON ledger_events (account_id);

CREATE TABLE payments (
  payment_id uuid PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('mtn', 'airtel')),
  account_id text NOT NULL REFERENCES customers (account_id),
  phone text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency text NOT NULL,
  kiosk_id text REFERENCES kiosks (kiosk_id),
  status text NOT NULL CHECK (status IN ('pending', 'successful', 'failed', 'expired', 'mismatch')),
  provider_transaction_id text,
  credited_ml bigint,
  topup_event_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  settled_at timestamptz
);
CREATE UNIQUE INDEX payments_provider_transaction ON payments (provider, provider_transaction_id);
CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';

CREATE TABLE sms_inbound (
  message_id text PRIMARY KEY,
  phone text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sms_outbox (
  id bigserial PRIMARY KEY,
  phone text NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  actor text NOT NULL,
  action text NOT NULL,
  subject text,
  details jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'payment request keys',
    sql: `
-- A USSD session asks for one payment however often its last request is delivered.
ALTER TABLE payments ADD COLUMN request_key text;
CREATE UNIQUE INDEX payments_request_key ON payments (request_key);
`,
  },
  {
    version: 3,
    name: 'take the version lock before any customer row is locked',
    sql: `
-- Taken per row (after the row is locked), the lock could deadlock with a transaction holding it
-- and waiting for that row; a BEFORE STATEMENT trigger takes it before the statement locks rows.
CREATE OR REPLACE FUNCTION customers_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('customer_version');
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE FUNCTION customers_lock_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(${CUSTOMER_VERSION_LOCK});
  RETURN NULL;
END $$;
CREATE TRIGGER customers_lock_versions BEFORE INSERT OR UPDATE ON customers
  FOR EACH STATEMENT EXECUTE FUNCTION customers_lock_versions();
`,
  },
  {
    version: 4,
    name: 'daily usage across kiosks',
    sql: `
-- What the customer drew on usage_day (the fleet's usage time zone) at every kiosk, moved by the
-- statement that merges dispense events, so a pull publishes it at no extra cost.
ALTER TABLE customers ADD COLUMN usage_day text;
ALTER TABLE customers ADD COLUMN used_today_ml bigint NOT NULL DEFAULT 0;
`,
  },
  {
    version: 5,
    name: 'kiosk daily volume flags, USSD PIN failures',
    sql: `
-- A kiosk whose dispenses on one usage day exceed the threshold, for operators to review.
CREATE TABLE kiosk_volume_flags (
  kiosk_id text NOT NULL,
  day text NOT NULL,
  volume_ml bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kiosk_id, day)
);
CREATE INDEX ledger_events_kiosk_dispenses ON ledger_events (kiosk_id, occurred_at) WHERE type = 'dispense';
-- Wrong old PINs typed on USSD; enough of them set locked_until, the lockout the keypads obey.
ALTER TABLE customers ADD COLUMN pin_failures integer NOT NULL DEFAULT 0;
`,
  },
  {
    version: 6,
    name: 'payment lifecycle, M-Pesa, durable SMS outbox',
    sql: `
ALTER TABLE payments DROP CONSTRAINT payments_provider_check;
ALTER TABLE payments ADD CONSTRAINT payments_provider_check CHECK (provider IN ('mtn', 'airtel', 'mpesa'));
-- The provider's own reference where it assigns one (M-Pesa's CheckoutRequestID, a C2B TransID).
ALTER TABLE payments ADD COLUMN provider_reference text;
CREATE UNIQUE INDEX payments_provider_reference ON payments (provider, provider_reference);
-- 'request': we asked the customer's phone (STK push, requesttopay); 'paybill': they paid us from the wallet menu.
ALTER TABLE payments ADD COLUMN channel text NOT NULL DEFAULT 'request' CHECK (channel IN ('request', 'paybill'));
-- Each pending payment has its own next status check, moved on with backoff; instances claim due
-- payments with FOR UPDATE SKIP LOCKED, so each is checked by one instance at a time.
ALTER TABLE payments ADD COLUMN next_check_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE payments ADD COLUMN checks integer NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN not_found_checks integer NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN first_not_found_at timestamptz;
ALTER TABLE payments ADD COLUMN last_error text;
DROP INDEX payments_pending;
CREATE INDEX payments_due ON payments (next_check_at) WHERE status = 'pending';
CREATE INDEX payments_created ON payments (provider, created_at);

-- Outgoing SMS are kept until the SMS provider accepts them (or refuses the number for good).
ALTER TABLE sms_outbox ADD COLUMN status text NOT NULL DEFAULT 'sent' CHECK (status IN ('queued', 'sent', 'rejected'));
ALTER TABLE sms_outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sms_outbox ADD COLUMN last_error text;
ALTER TABLE sms_outbox ADD COLUMN provider_message_id text;
CREATE INDEX sms_outbox_due ON sms_outbox (next_attempt_at) WHERE status = 'queued';
`,
  },
  {
    version: 7,
    name: 'console operators and sessions',
    sql: `
-- People who run the fleet from the operations console; a role decides which sections they use.
CREATE TABLE operators (
  operator_id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'customer_service', 'finance', 'field')),
  password_hash text NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until bigint,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Only a SHA-256 of each session cookie is kept.
CREATE TABLE operator_sessions (
  token_hash text PRIMARY KEY,
  operator_id uuid NOT NULL REFERENCES operators (operator_id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
`,
  },
  {
    version: 8,
    name: 'kiosk status and contact, alerts, live feed, fleet firmware rollouts',
    sql: `
-- Last contact (any pull or push) and the compact status a gateway sends with its sync.
ALTER TABLE kiosks ADD COLUMN last_contact_at timestamptz;
CREATE TABLE kiosk_status (
  kiosk_id text PRIMARY KEY REFERENCES kiosks (kiosk_id),
  reported_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  gateway_version text NOT NULL,
  events_waiting integer NOT NULL,
  dispensers_online integer NOT NULL,
  dispensers_total integer NOT NULL,
  tank_level_pct real,
  water_quality text NOT NULL CHECK (water_quality IN ('ok', 'unsafe', 'unknown')),
  dispensers jsonb NOT NULL DEFAULT '[]'
);
-- Hourly authorisation outcomes as the gateway counted them: a re-sent hour replaces its count.
CREATE TABLE kiosk_auth_counts (
  kiosk_id text NOT NULL,
  hour timestamptz NOT NULL,
  outcome text NOT NULL,
  count integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (kiosk_id, hour, outcome)
);
-- One row per hour in which the kiosk reached the cloud at least once (uptime).
CREATE TABLE kiosk_contact_hours (
  kiosk_id text NOT NULL,
  hour timestamptz NOT NULL,
  PRIMARY KEY (kiosk_id, hour)
);

-- Kiosk alerts (alert_raised/alert_cleared notices) and the cloud's own rules.
CREATE TABLE alerts (
  alert_id text PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('kiosk', 'cloud')),
  rule text NOT NULL,
  -- What the alert is about (kiosk, kiosk/dispenser, account, payment): one active alert per rule and subject.
  subject text NOT NULL,
  kiosk_id text,
  severity text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  message text NOT NULL,
  details jsonb,
  raised_at timestamptz NOT NULL,
  cleared_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, subject) WHERE cleared_at IS NULL AND source = 'cloud';
CREATE INDEX alerts_open ON alerts (raised_at) WHERE cleared_at IS NULL;
CREATE INDEX alerts_kiosk ON alerts (kiosk_id, raised_at);
CREATE INDEX alerts_updated ON alerts (updated_at);
-- The negative-balance rule and the live dispense feed read these often.
CREATE INDEX customers_negative ON customers (balance_ml) WHERE balance_ml < 0;
CREATE INDEX ledger_events_received_dispenses ON ledger_events (received_at) WHERE type = 'dispense';

-- Fleet-wide dispenser firmware: release-signed files, rollouts to chosen kiosks, progress.
CREATE TABLE fleet_firmware_images (
  sha256 text PRIMARY KEY,
  version text NOT NULL UNIQUE,
  size integer NOT NULL,
  counter integer NOT NULL,
  signed_file bytea NOT NULL,
  uploaded_by text NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE fleet_rollouts (
  rollout_id uuid PRIMARY KEY,
  sha256 text NOT NULL REFERENCES fleet_firmware_images (sha256),
  -- null: every kiosk
  kiosk_ids text[],
  state text NOT NULL CHECK (state IN ('active', 'stopped')),
  started_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  stopped_by text,
  stopped_at timestamptz
);
CREATE TABLE fleet_rollout_kiosks (
  rollout_id uuid NOT NULL REFERENCES fleet_rollouts (rollout_id),
  kiosk_id text NOT NULL,
  state text NOT NULL,
  message text,
  dispensers jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout_id, kiosk_id)
);
`,
  },
  {
    version: 9,
    name: 'analytics rollups of dispenses',
    sql: `
-- The fleet's day for the rollups by day and month: the cloud's usage time zone, kept here for
-- the trigger below; a cloud started with another zone rebuilds the rollups (setAnalyticsTimeZone).
CREATE TABLE analytics_settings (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  time_zone text NOT NULL
);
INSERT INTO analytics_settings (time_zone) VALUES ('${DEFAULT_TIME_ZONE}');

-- Dispenses that delivered water, rolled up as they are merged, so a month of the fleet's
-- analytics reads thousands of rows, not millions of events. Hours are UTC hours.
CREATE TABLE kiosk_dispense_hours (
  kiosk_id text NOT NULL,
  hour timestamptz NOT NULL,
  dispenses integer NOT NULL,
  volume_ml bigint NOT NULL,
  PRIMARY KEY (kiosk_id, hour)
);
CREATE INDEX kiosk_dispense_hours_hour ON kiosk_dispense_hours (hour);
-- Per customer and kiosk, by day and by month of the fleet's day: active and top customers of
-- a range read the months it covers whole and the days at its ends.
CREATE TABLE customer_dispense_days (
  kiosk_id text NOT NULL,
  day date NOT NULL,
  account_id text NOT NULL,
  dispenses integer NOT NULL,
  volume_ml bigint NOT NULL,
  PRIMARY KEY (kiosk_id, day, account_id)
);
CREATE INDEX customer_dispense_days_day ON customer_dispense_days (day);
CREATE TABLE customer_dispense_months (
  kiosk_id text NOT NULL,
  month date NOT NULL,
  account_id text NOT NULL,
  dispenses integer NOT NULL,
  volume_ml bigint NOT NULL,
  PRIMARY KEY (kiosk_id, month, account_id)
);
CREATE INDEX customer_dispense_months_month ON customer_dispense_months (month);
-- Revenue per day reads successful payments by the time they settled.
CREATE INDEX payments_settled ON payments (settled_at) WHERE status = 'successful';

-- Adds dispense events to the rollups. Rows are upserted in key order, so concurrent merges lock
-- them in one order (no deadlock); the shared lock waits out a rebuild in another time zone.
CREATE FUNCTION analytics_add_dispenses(events ledger_events[]) RETURNS void LANGUAGE plpgsql AS $$
${ADD_DISPENSES_TO_ROLLUPS}
END $$;

CREATE FUNCTION ledger_events_roll_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM analytics_add_dispenses(ARRAY(SELECT n::ledger_events FROM new_events n WHERE n.type = 'dispense'));
  RETURN NULL;
END $$;
CREATE TRIGGER ledger_events_roll_up AFTER INSERT ON ledger_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_roll_up();

-- Empties the rollups and adds every dispense again, a day of events at a time.
CREATE FUNCTION analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE day_start bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${ANALYTICS_REBUILD_LOCK});
  TRUNCATE kiosk_dispense_hours, customer_dispense_days, customer_dispense_months;
  FOR day_start IN SELECT DISTINCT occurred_at / 86400000 * 86400000 FROM ledger_events WHERE type = 'dispense' LOOP
    PERFORM analytics_add_dispenses(ARRAY(SELECT e FROM ledger_events e
      WHERE e.type = 'dispense' AND e.occurred_at >= day_start AND e.occurred_at < day_start + 86400000));
  END LOOP;
END $$;
SELECT analytics_rebuild();
`,
  },
  {
    version: 10,
    name: 'keypad tokens for offline top-ups',
    sql: `
-- Each customer's keypad-token key (32 random bytes, base64url; a secret replicated to gateways,
-- never logged), the highest token counter issued (every such top-up is in balance_ml), and the
-- newest voided counters: all three travel to gateways in the customer record.
ALTER TABLE customers ADD COLUMN token_key text;
ALTER TABLE customers ADD COLUMN token_counter bigint NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN tokens_void bigint[] NOT NULL DEFAULT '{}';
-- One row per token: the top-up it stands for (its event id is tokenEventId(account, counter)),
-- when a kiosk first redeemed it and which kiosks did, and an operator's void.
CREATE TABLE keypad_tokens (
  account_id text NOT NULL REFERENCES customers (account_id),
  counter bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  credit_ml bigint NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  redeemed_at timestamptz,
  -- Every kiosk that redeemed it before it synced (two or more: the credit was spent twice offline).
  redeemed_kiosks text[] NOT NULL DEFAULT '{}',
  voided_at timestamptz,
  voided_by text,
  PRIMARY KEY (account_id, counter)
);
`,
  },
  {
    version: 11,
    name: 'jobs held by one instance, kiosk change notifications',
    sql: `
-- A job that must run on one cloud instance at a time (payment status checks, the SMS outbox
-- sweep, alert rules) is held by one instance under a lease it renews at every run.
CREATE TABLE scheduled_jobs (
  name text PRIMARY KEY,
  holder text NOT NULL,
  lease_until timestamptz NOT NULL,
  last_run_at timestamptz NOT NULL
);

-- Instances keep verified kiosk credentials in memory; a change (a rotated secret) drops them everywhere.
CREATE FUNCTION kiosks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${KIOSKS_CHANGED_CHANNEL}', '');
  RETURN NULL;
END $$;
-- Only credential changes: kiosks.last_contact_at moves at every contact.
CREATE TRIGGER kiosks_notify AFTER UPDATE OF credential_hash OR DELETE ON kiosks
  FOR EACH STATEMENT EXECUTE FUNCTION kiosks_notify();
`,
  },
  {
    version: 12,
    name: 'console customer service: one-time codes, customer search',
    sql: `
-- One-time codes sent by SMS for a PIN reset (redeemed on USSD) or a phone change (read back to
-- an operator); only a hash is kept, and a code is spent once.
CREATE TABLE customer_codes (
  code_id uuid PRIMARY KEY,
  account_id text NOT NULL REFERENCES customers (account_id),
  purpose text NOT NULL CHECK (purpose IN ('pin_reset', 'phone_change')),
  code_hash text NOT NULL,
  new_phone text,
  attempts integer NOT NULL DEFAULT 0,
  expires_at bigint NOT NULL,
  used_at bigint,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_codes_open ON customer_codes (account_id, purpose) WHERE used_at IS NULL;
-- Customer search by name (case-insensitive prefix and word) and by phone digits.
CREATE INDEX customers_name_lower ON customers (lower(name) text_pattern_ops);
CREATE INDEX ledger_events_account_time ON ledger_events (account_id, occurred_at DESC);
`,
  },
  {
    version: 14,
    name: 'analytics: customers per fleet month',
    sql: `
-- A month of the whole fleet reads its active customers (a count of rows) and its top customers
-- (an index scan) here, instead of summing every customer's kiosks.
CREATE TABLE customer_fleet_months (
  month date NOT NULL,
  account_id text NOT NULL,
  dispenses integer NOT NULL,
  volume_ml bigint NOT NULL,
  PRIMARY KEY (month, account_id)
);
CREATE INDEX customer_fleet_months_top ON customer_fleet_months (month, volume_ml DESC, account_id);
INSERT INTO customer_fleet_months (month, account_id, dispenses, volume_ml)
  SELECT month, account_id, sum(dispenses), sum(volume_ml) FROM customer_dispense_months GROUP BY 1, 2;

-- As in migration 9, plus the fleet's month per customer.
CREATE OR REPLACE FUNCTION analytics_add_dispenses(events ledger_events[]) RETURNS void LANGUAGE plpgsql AS $$
${ADD_DISPENSES_TO_ROLLUPS}
  INSERT INTO customer_fleet_months AS r (month, account_id, dispenses, volume_ml)
    SELECT date_trunc('month', to_timestamp(occurred_at / 1000.0) AT TIME ZONE zone)::date, account_id,
      count(*), -sum(amount_ml)
    FROM unnest(events) WHERE type = 'dispense' AND amount_ml < 0 AND kiosk_id IS NOT NULL AND account_id IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (month, account_id) DO UPDATE
      SET dispenses = r.dispenses + EXCLUDED.dispenses, volume_ml = r.volume_ml + EXCLUDED.volume_ml;
END $$;

-- Empties every rollup, this one too, and adds every dispense again.
CREATE OR REPLACE FUNCTION analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE day_start bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${ANALYTICS_REBUILD_LOCK});
  TRUNCATE kiosk_dispense_hours, customer_dispense_days, customer_dispense_months, customer_fleet_months;
  FOR day_start IN SELECT DISTINCT occurred_at / 86400000 * 86400000 FROM ledger_events WHERE type = 'dispense' LOOP
    PERFORM analytics_add_dispenses(ARRAY(SELECT e FROM ledger_events e
      WHERE e.type = 'dispense' AND e.occurred_at >= day_start AND e.occurred_at < day_start + 86400000));
  END LOOP;
END $$;
`,
  },
  {
    version: 15,
    name: 'a keypad-token key for every customer',
    sql: `
-- Kiosks must hold the key before the first token, which may be issued while they are offline:
-- customers get it when they are created; those created before get one here (32 random bytes, base64url).
UPDATE customers SET token_key = translate(rtrim(encode(decode(
    replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '='), '+/', '-_')
  WHERE token_key IS NULL;
`,
  },
  {
    version: 16,
    name: 'customer search: trigram index on names, account id prefixes',
    sql: `
-- A name matches by its start or a word's start (lower(name) LIKE 'q%' OR LIKE '% q%'): the second
-- needs pg_trgm's GIN index, or each search reads every customer. The extension lives once per
-- database (schema public unless it is already installed elsewhere), so every schema shares it.
-- Without pg_trgm (no contrib package, no right to create it) search still works, by a scan.
DO $$
DECLARE trgm text;
BEGIN
  SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF trgm IS NULL THEN
    BEGIN
      CREATE EXTENSION pg_trgm SCHEMA public;
      trgm := 'public';
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'pg_trgm unavailable (%): customer search by a word of a name scans every customer', SQLERRM;
    END;
  END IF;
  IF trgm IS NOT NULL THEN
    EXECUTE format('CREATE INDEX customers_name_trgm ON customers USING gin (lower(name) %I.gin_trgm_ops)', trgm);
  END IF;
END $$;
-- account_id LIKE 'TS12%' uses an index only with pattern ops (the database's collation is not C).
CREATE INDEX customers_account_prefix ON customers (account_id text_pattern_ops);
`,
  },
  {
    version: 17,
    name: "operators' last sign-in",
    sql: `
-- Shown on the console's Operators page; set by each successful sign-in, never by a failed one.
ALTER TABLE operators ADD COLUMN last_sign_in_at timestamptz;
`,
  },
  {
    version: 18,
    name: 'customer versions without the global lock',
    sql: `
-- Customer changes no longer queue on one lock held to commit (at hundreds of kiosks pushing, that
-- lock was the write path's ceiling). Versions may now commit out of order: a writer holds a
-- shared lock (writers never wait for each other) from before it takes a version until it ends,
-- and the change feed reads only up to a version handed out before every holder it saw at that
-- moment had ended (src/kiosk-api/change-feed.ts). The lock's second key is the schema's, so
-- writers in another schema (tests) are not waited for.
CREATE OR REPLACE FUNCTION customers_lock_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${CUSTOMER_WRITERS_LOCK}, hashtext(current_schema()));
  RETURN NULL;
END $$;
`,
  },
  {
    version: 19,
    name: "a running count of each kiosk's daily volume",
    sql: `
-- Each kiosk's dispensed volume per usage day, bumped by every push (src/kiosk-api/kiosk-volume.ts):
-- the daily volume check no longer sums the kiosk's day of ledger events at every push.
CREATE TABLE kiosk_daily_volume (
  kiosk_id text NOT NULL,
  day text NOT NULL,
  volume_ml bigint NOT NULL,
  PRIMARY KEY (kiosk_id, day)
);
`,
  },
  {
    version: 21,
    name: 'the live feed woken by triggers',
    sql: `
-- The console's live feed (src/fleet/live.ts) reads on this channel. Triggers send it, so a row
-- written by anyone (the cloud, another tool, a manual fix) reaches the consoles at once, not at
-- the next safety poll. One per statement, and Postgres folds a transaction's equal ones into one.
CREATE FUNCTION live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${LIVE_CHANGED_CHANNEL}', '');
  RETURN NULL;
END $$;
-- Only the ledger's dispenses are in the feed: top-ups, adjustments and the rest stay quiet.
CREATE FUNCTION live_notify_dispenses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted WHERE type = 'dispense') THEN
    PERFORM pg_notify('${LIVE_CHANGED_CHANNEL}', '');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER ledger_events_live AFTER INSERT ON ledger_events REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION live_notify_dispenses();
CREATE TRIGGER alerts_live AFTER INSERT OR UPDATE ON alerts
  FOR EACH STATEMENT EXECUTE FUNCTION live_notify();
CREATE TRIGGER kiosk_status_live AFTER INSERT OR UPDATE ON kiosk_status
  FOR EACH STATEMENT EXECUTE FUNCTION live_notify();
CREATE TRIGGER fleet_rollout_kiosks_live AFTER INSERT OR UPDATE ON fleet_rollout_kiosks
  FOR EACH STATEMENT EXECUTE FUNCTION live_notify();
`,
  },
  {
    version: 22,
    name: 'hot writers notify after their commit',
    sql: `
-- A transaction that NOTIFYs holds a database-wide lock from its commit until its WAL is flushed,
-- so notifying writers commit one at a time. The kiosks' pushes (hundreds a second at 600 kiosks)
-- turn these triggers off for their transaction and wake the listeners once committed
-- (src/store/db.ts, notifyAfterCommit); every other writer, another tool's included, still
-- notifies from here.
CREATE FUNCTION notify_unless_after_commit(channel text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('${NOTIFY_AFTER_COMMIT_SETTING}', true) IS DISTINCT FROM 'on' THEN
    PERFORM pg_notify(channel, '');
  END IF;
END $$;
CREATE OR REPLACE FUNCTION customers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_unless_after_commit('${CUSTOMERS_CHANGED_CHANNEL}');
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_unless_after_commit('${LIVE_CHANGED_CHANNEL}');
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION live_notify_dispenses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted WHERE type = 'dispense') THEN
    PERFORM notify_unless_after_commit('${LIVE_CHANGED_CHANNEL}');
  END IF;
  RETURN NULL;
END $$;
`,
  },
  {
    version: 23,
    name: 'which kiosks follow a customer, and its last profile change',
    sql: `
-- A kiosk may ask the feed for only the balances of the customers it serves (src/kiosk-api/
-- feed-filter.ts): every profile change still reaches every kiosk, a balance-only one only those.
-- profile_version: the version of the customer's last change to a field of the published record
-- other than its balance, usage and token counter (which each top-up with a token moves; a gateway
-- asks for the record before it redeems a token of a customer it does not follow). Rows from
-- before start at the head as it stands now: a kiosk behind it is sent them all.
DO $$ BEGIN
  EXECUTE format('ALTER TABLE customers ADD COLUMN profile_version bigint NOT NULL DEFAULT %s',
    (SELECT coalesce(max(version), 0) FROM customers));
END $$;
ALTER TABLE customers ALTER COLUMN profile_version DROP DEFAULT;
CREATE OR REPLACE FUNCTION customers_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('customer_version');
  NEW.updated_at := now();
  IF TG_OP = 'INSERT' OR ROW(NEW.phone, NEW.name, NEW.pin_hash, NEW.status, NEW.expires_at,
      NEW.daily_limit_ml, NEW.allowed_kiosks, NEW.locked_until, NEW.token_key, NEW.tokens_void)
      IS DISTINCT FROM ROW(OLD.phone, OLD.name, OLD.pin_hash, OLD.status, OLD.expires_at,
      OLD.daily_limit_ml, OLD.allowed_kiosks, OLD.locked_until, OLD.token_key, OLD.tokens_void) THEN
    NEW.profile_version := NEW.version;
  END IF;
  RETURN NEW;
END $$;
-- The feed finds customers whose profile changed within a page but whose newest change is beyond
-- it (sent early to the kiosks that filter, or they would never get that profile).
CREATE INDEX customers_profile_version ON customers (profile_version);
-- followers: kiosk id → the day (days since 1970-01-01, UTC) the cloud last received an event of
-- that kiosk for this customer, set by the push that merges it (src/ledger/ledger.ts).
ALTER TABLE customers ADD COLUMN followers jsonb NOT NULL DEFAULT '{}';
-- From the ledger of the last 60 days (kiosks follow for 30 by default), without new versions:
-- kiosks hold these rows already.
ALTER TABLE customers DISABLE TRIGGER customers_version;
UPDATE customers c SET followers = f.followers
  FROM (SELECT account_id, jsonb_object_agg(kiosk_id, day) AS followers
          FROM (SELECT account_id, kiosk_id,
                       floor(extract(epoch FROM max(received_at)) / 86400)::int AS day
                  FROM ledger_events
                 WHERE account_id IS NOT NULL AND kiosk_id IS NOT NULL
                   AND received_at > now() - interval '60 days'
                 GROUP BY account_id, kiosk_id) seen
         GROUP BY account_id) f
 WHERE c.account_id = f.account_id;
ALTER TABLE customers ENABLE TRIGGER customers_version;
`,
  },
];

/** Applies every migration not yet applied, each in its own transaction; safe for instances starting together. */
export async function migrate(db: Db): Promise<number> {
  // Under the lock too: two instances racing on CREATE TABLE IF NOT EXISTS can both try to create it.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  let applied = 0;
  for (const migration of MIGRATIONS) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const existing = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (existing.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied += 1;
  }
  return applied;
}
