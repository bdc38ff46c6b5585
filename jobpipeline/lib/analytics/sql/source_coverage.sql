-- Coverage per source: boards scraped, how recently and how reliably, and the jobs they hold.
CREATE OR REPLACE TABLE source_coverage AS
WITH scrapes AS (
    SELECT source,
           count(DISTINCT board) AS boards,
           count(DISTINCT scraped_on) AS days_scraped,
           max(scraped_on) AS last_scraped_on,
           max(scraped_on) FILTER (WHERE ok) AS last_ok_on,
           count(*) FILTER (WHERE NOT ok AND scraped_on = (SELECT max(scraped_on) FROM board_scrapes))
               AS boards_failed_last_day,
           count(*) FILTER (WHERE NOT ok) / count(*) AS failed_share
    FROM board_scrapes GROUP BY 1
),
jobs AS (
    SELECT source, count(*) AS jobs, count(*) FILTER (WHERE is_open) AS open_jobs,
           count(*) FILTER (WHERE enriched) / count(*) AS enriched_share
    FROM job_snapshot GROUP BY 1
)
SELECT source,
       coalesce(boards, 0) AS boards, coalesce(days_scraped, 0) AS days_scraped, last_scraped_on, last_ok_on,
       coalesce(boards_failed_last_day, 0) AS boards_failed_last_day, failed_share,
       coalesce(jobs, 0) AS jobs, coalesce(open_jobs, 0) AS open_jobs, coalesce(enriched_share, 0) AS enriched_share
FROM scrapes FULL OUTER JOIN jobs USING (source)
ORDER BY source;
