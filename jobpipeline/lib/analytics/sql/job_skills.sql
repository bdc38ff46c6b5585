-- One row per (enriched job, skill): the base of skill demand.
CREATE OR REPLACE TABLE job_skills AS
SELECT job_id, skill, company, first_seen, closed_at
FROM (SELECT job_id, company, first_seen, closed_at, unnest(skills) AS skill FROM job_snapshot WHERE enriched)
WHERE skill <> ''
ORDER BY job_id, skill;
