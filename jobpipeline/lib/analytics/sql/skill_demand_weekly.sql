-- Skill demand per ISO week (starting Monday): skill_demand_daily summed by week (a job is first
-- seen on one day only, so the sums count each job once), over the week's enriched jobs.
CREATE OR REPLACE TABLE skill_demand_weekly AS
WITH base AS (
    SELECT CAST(date_trunc('week', first_seen) AS DATE) AS week, count(*) AS enriched_jobs
    FROM job_snapshot WHERE enriched GROUP BY 1
),
skills AS (
    SELECT CAST(date_trunc('week', day) AS DATE) AS week, skill, CAST(sum(jobs) AS BIGINT) AS jobs
    FROM skill_demand_daily GROUP BY 1, 2
)
SELECT s.week, s.skill, s.jobs, b.enriched_jobs, s.jobs / b.enriched_jobs AS share
FROM skills s
JOIN base b USING (week)
ORDER BY week, jobs DESC, skill;
