-- Helpers for reading the store's Arrow as loaded: SQLite hands back dates as text and booleans as
-- 0/1, and a column that is NULL throughout as int64, so every store value is read through text.
CREATE OR REPLACE TEMP MACRO as_text(x) AS NULLIF(CAST(x AS VARCHAR), '');
CREATE OR REPLACE TEMP MACRO as_date(x) AS TRY_CAST(left(CAST(x AS VARCHAR), 10) AS DATE);
CREATE OR REPLACE TEMP MACRO as_timestamp(x) AS TRY_CAST(left(CAST(x AS VARCHAR), 26) AS TIMESTAMP);
CREATE OR REPLACE TEMP MACRO as_double(x) AS TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE);
CREATE OR REPLACE TEMP MACRO as_bool(x) AS
    CASE lower(CAST(x AS VARCHAR)) WHEN '1' THEN true WHEN 'true' THEN true WHEN '0' THEN false WHEN 'false' THEN false END;
-- A JSON array of strings (as the store keeps lists) to VARCHAR[]; anything else to NULL.
CREATE OR REPLACE TEMP MACRO json_strings(x) AS
    CASE WHEN json_valid(CAST(x AS VARCHAR)) AND json_type(CAST(x AS VARCHAR)) = 'ARRAY'
         THEN from_json(CAST(x AS VARCHAR), '["VARCHAR"]') END;
-- Pay periods a year holds (260 working days, 2,080 working hours); NULL where the period is unknown.
CREATE OR REPLACE TEMP MACRO periods_per_year(p) AS
    CASE lower(trim(CAST(p AS VARCHAR)))
        WHEN 'year' THEN 1 WHEN 'yearly' THEN 1 WHEN 'annual' THEN 1 WHEN 'annually' THEN 1
        WHEN 'month' THEN 12 WHEN 'monthly' THEN 12
        WHEN 'week' THEN 52 WHEN 'weekly' THEN 52
        WHEN 'day' THEN 260 WHEN 'daily' THEN 260
        WHEN 'hour' THEN 2080 WHEN 'hourly' THEN 2080
    END;
