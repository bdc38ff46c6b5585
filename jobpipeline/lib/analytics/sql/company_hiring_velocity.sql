-- Jobs each company opened (first seen) and closed per ISO week.
CREATE OR REPLACE TABLE company_hiring_velocity AS
WITH opened AS (
    SELECT company, CAST(date_trunc('week', first_seen) AS DATE) AS week, count(*) AS opened
    FROM job_snapshot GROUP BY 1, 2
),
closed AS (
    SELECT company, CAST(date_trunc('week', closed_at) AS DATE) AS week, count(*) AS closed
    FROM job_snapshot WHERE closed_at IS NOT NULL GROUP BY 1, 2
)
SELECT company, week, coalesce(opened, 0) AS opened, coalesce(closed, 0) AS closed,
       coalesce(opened, 0) - coalesce(closed, 0) AS net
FROM opened FULL OUTER JOIN closed USING (company, week)
ORDER BY week, opened DESC, company;
