-- Skill demand per day: enriched jobs first seen that day listing the skill, and their share of all
-- enriched jobs first seen that day (jobs not yet enriched have unknown skills, so they do not count).
CREATE OR REPLACE TABLE skill_demand_daily AS
WITH base AS (
    SELECT first_seen AS day, count(*) AS enriched_jobs FROM job_snapshot WHERE enriched GROUP BY 1
)
SELECT s.first_seen AS day, s.skill, count(*) AS jobs, b.enriched_jobs, count(*) / b.enriched_jobs AS share
FROM job_skills s
JOIN base b ON b.day = s.first_seen
GROUP BY 1, 2, b.enriched_jobs
ORDER BY day, jobs DESC, skill;
