-- One row per enriched job and skill (a view: it is job_snapshot.skills unnested, kept for joins).
CREATE OR REPLACE VIEW job_skills AS
SELECT job_id, unnest(skills) AS skill, company, first_seen, closed_at
FROM job_snapshot
WHERE enriched;
