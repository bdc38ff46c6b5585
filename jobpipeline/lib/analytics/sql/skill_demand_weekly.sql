-- Skill demand per ISO week (starting Monday), counted as skill_demand_daily is.
CREATE OR REPLACE TABLE skill_demand_weekly AS
WITH base AS (
    SELECT CAST(date_trunc('week', first_seen) AS DATE) AS week, count(*) AS enriched_jobs
    FROM job_snapshot WHERE enriched GROUP BY 1
)
SELECT CAST(date_trunc('week', s.first_seen) AS DATE) AS week, s.skill, count(*) AS jobs, b.enriched_jobs,
       count(*) / b.enriched_jobs AS share
FROM job_skills s
JOIN base b ON b.week = CAST(date_trunc('week', s.first_seen) AS DATE)
GROUP BY 1, 2, b.enriched_jobs
ORDER BY week, jobs DESC, skill;
