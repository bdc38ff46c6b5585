-- Helpers for reading the store as loaded: SQLite hands back dates as text and booleans as 0/1.
-- Pay periods a year holds (260 working days, 2,080 working hours); NULL where the period is unknown.
CREATE OR REPLACE TEMP MACRO periods_per_year(p) AS
    CASE lower(trim(CAST(p AS VARCHAR)))
        WHEN 'year' THEN 1 WHEN 'yearly' THEN 1 WHEN 'annual' THEN 1 WHEN 'annually' THEN 1
        WHEN 'month' THEN 12 WHEN 'monthly' THEN 12
        WHEN 'week' THEN 52 WHEN 'weekly' THEN 52
        WHEN 'day' THEN 260 WHEN 'daily' THEN 260
        WHEN 'hour' THEN 2080 WHEN 'hourly' THEN 2080
    END;
-- A JSON array of strings (how the store keeps lists) as VARCHAR[]; NULL for anything else.
CREATE OR REPLACE TEMP MACRO json_strings(x) AS TRY(from_json(CAST(x AS VARCHAR), '["VARCHAR"]'));
