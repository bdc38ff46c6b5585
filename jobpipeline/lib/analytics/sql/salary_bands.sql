-- Annual salary bands of open jobs per seniority x work mode x currency. One value per job: the
-- midpoint of its annualized range (or the one bound it has); jobs whose pay period is unknown
-- cannot be annualized and are left out.
CREATE OR REPLACE TABLE salary_bands AS
WITH pay AS (
    SELECT seniority, work_mode, salary_currency AS currency,
           CASE WHEN salary_annual_min IS NOT NULL AND salary_annual_max IS NOT NULL
                THEN (salary_annual_min + salary_annual_max) / 2
                ELSE coalesce(salary_annual_min, salary_annual_max) END AS salary_annual
    FROM job_snapshot
    WHERE is_open AND salary_currency IS NOT NULL
)
SELECT seniority, work_mode, currency,
       count(*) AS jobs,
       quantile_cont(salary_annual, 0.25) AS p25,
       quantile_cont(salary_annual, 0.50) AS p50,
       quantile_cont(salary_annual, 0.75) AS p75
FROM pay
WHERE salary_annual IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY currency, seniority, work_mode;
