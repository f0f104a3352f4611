-- Firekeeper storage: current resources, full version history, and typed search indexes.
-- One dialect (PostgreSQL); the same file runs on PGlite and on a PostgreSQL server.

-- The current version of every resource (a tombstone row when deleted).
-- `rid` is the internal, stable identity of a (type, id) pair: index rows point at it.
CREATE TABLE resources (
  rid          bigserial PRIMARY KEY,
  type         text        NOT NULL,
  id           text        NOT NULL,
  version      integer     NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean     NOT NULL DEFAULT false,
  resource     jsonb       NOT NULL,           -- exactly what a read serves (id and meta set)
  compartments text[]      NOT NULL DEFAULT '{}', -- e.g. {Patient/123}: computed at write time
  UNIQUE (type, id)
);
CREATE INDEX resources_type_updated ON resources (type, last_updated, rid);
CREATE INDEX resources_compartments ON resources USING gin (compartments);

-- Every version ever written, in commit order (`seq`). Deleted versions have no body.
CREATE TABLE resource_versions (
  seq          bigserial PRIMARY KEY,
  rid          bigint      NOT NULL,
  type         text        NOT NULL,
  id           text        NOT NULL,
  version      integer     NOT NULL,
  last_updated timestamptz NOT NULL,
  method       text        NOT NULL,           -- POST | PUT | PATCH | DELETE (for history entries)
  resource     jsonb,
  UNIQUE (type, id, version)
);
CREATE INDEX resource_versions_updated ON resource_versions (last_updated, seq);
CREATE INDEX resource_versions_type_updated ON resource_versions (type, last_updated, seq);

-- Search indexes. `p` is the qualified parameter key, e.g. 'Observation.code'.
-- Rows are replaced in the same transaction as the resource they describe.
CREATE TABLE sp_token (
  rid    bigint NOT NULL,
  p      text   NOT NULL,
  system text,
  code   text,
  text   text            -- lower-cased display / text, for :text
);
CREATE INDEX sp_token_lookup ON sp_token (p, code, system);
CREATE INDEX sp_token_rid ON sp_token (rid, p);

CREATE TABLE sp_string (
  rid   bigint NOT NULL,
  p     text   NOT NULL,
  norm  text   NOT NULL,  -- lower-case, accents removed: default and :contains searches
  exact text   NOT NULL   -- as written: :exact searches
);
CREATE INDEX sp_string_lookup ON sp_string (p, norm text_pattern_ops);
CREATE INDEX sp_string_rid ON sp_string (rid, p);

CREATE TABLE sp_reference (
  rid         bigint NOT NULL,
  p           text   NOT NULL,
  target_type text,       -- parsed from a relative or absolute literal reference
  target_id   text,
  url         text        -- the reference as written when absolute or canonical
);
CREATE INDEX sp_reference_lookup ON sp_reference (p, target_id, target_type);
CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id);
CREATE INDEX sp_reference_url ON sp_reference (p, url) WHERE url IS NOT NULL;
CREATE INDEX sp_reference_rid ON sp_reference (rid, p);

-- Dates as half-open ranges [lo, hi): '2019' is [2019-01-01, 2020-01-01).
CREATE TABLE sp_date (
  rid bigint      NOT NULL,
  p   text        NOT NULL,
  lo  timestamptz NOT NULL,
  hi  timestamptz NOT NULL
);
CREATE INDEX sp_date_lo ON sp_date (p, lo);
CREATE INDEX sp_date_hi ON sp_date (p, hi);
CREATE INDEX sp_date_rid ON sp_date (rid, p);

CREATE TABLE sp_number (
  rid   bigint  NOT NULL,
  p     text    NOT NULL,
  value numeric NOT NULL
);
CREATE INDEX sp_number_lookup ON sp_number (p, value);
CREATE INDEX sp_number_rid ON sp_number (rid, p);

CREATE TABLE sp_quantity (
  rid    bigint  NOT NULL,
  p      text    NOT NULL,
  value  numeric NOT NULL,
  system text,
  code   text,
  unit   text
);
CREATE INDEX sp_quantity_lookup ON sp_quantity (p, value);
CREATE INDEX sp_quantity_rid ON sp_quantity (rid, p);

CREATE TABLE sp_uri (
  rid   bigint NOT NULL,
  p     text   NOT NULL,
  value text   NOT NULL
);
CREATE INDEX sp_uri_lookup ON sp_uri (p, value);
CREATE INDEX sp_uri_rid ON sp_uri (rid, p);
