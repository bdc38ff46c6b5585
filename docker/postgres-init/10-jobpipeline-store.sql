-- Run once by the postgres image on an empty volume: the operational store's database, beside
-- the `dagster` database (POSTGRES_DB) that holds Dagster's runs, events and schedules.
CREATE DATABASE jobpipeline OWNER dagster;
