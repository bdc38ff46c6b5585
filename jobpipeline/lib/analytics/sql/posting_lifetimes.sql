-- How long jobs stay up, by company and source: days from first seen to closed for closed jobs, and
-- the age of the still open ones as of the store's latest sighting (so a rebuild is reproducible).
CREATE OR REPLACE TABLE posting_lifetimes AS
WITH as_of AS (SELECT max(last_seen) AS day FROM job_snapshot),
lifetimes AS (
    SELECT company, source, closed_at IS NOT NULL AS closed,
           CASE WHEN closed_at IS NOT NULL THEN closed_at - first_seen END AS days_to_close,
           CASE WHEN closed_at IS NULL THEN (SELECT day FROM as_of) - first_seen END AS open_age
    FROM job_snapshot
)
SELECT company, source,
       count(*) AS jobs,
       count(*) FILTER (WHERE closed) AS closed_jobs,
       count(*) FILTER (WHERE NOT closed) AS open_jobs,
       avg(days_to_close) AS mean_days_to_close,
       median(days_to_close) AS median_days_to_close,
       quantile_cont(days_to_close, 0.9) AS p90_days_to_close,
       median(open_age) AS median_open_age_days
FROM lifetimes
GROUP BY 1, 2
ORDER BY jobs DESC, company, source;
