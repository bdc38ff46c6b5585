-- Skill demand per day: enriched jobs first seen that day listing the skill, and their share of all
-- enriched jobs first seen that day (jobs not yet enriched have unknown skills, so they do not count).
CREATE OR REPLACE TABLE skill_demand_daily AS
WITH base AS (
    SELECT first_seen AS day, count(*) AS enriched_jobs FROM job_snapshot WHERE enriched GROUP BY 1
),
skills AS (
    SELECT first_seen AS day, skill, count(*) AS jobs
    FROM (SELECT first_seen, unnest(skills) AS skill FROM job_snapshot WHERE enriched)
    GROUP BY 1, 2
)
SELECT s.day, s.skill, s.jobs, b.enriched_jobs, s.jobs / b.enriched_jobs AS share
FROM skills s
JOIN base b USING (day)
ORDER BY day, jobs DESC, skill;
