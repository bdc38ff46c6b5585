-- Scrape health per partition (day x source): boards scraped, ok and failed, and what they fetched.
CREATE OR REPLACE TABLE scrape_health AS
SELECT
    scraped_on, source,
    count(*) AS boards,
    count(*) FILTER (WHERE ok) AS boards_ok,
    count(*) FILTER (WHERE NOT ok) AS boards_failed,
    count(*) FILTER (WHERE NOT ok) / count(*) AS failed_share,
    sum(n_postings) AS postings,
    sum(n_bytes) AS bytes,
    round(sum(duration_s), 3) AS duration_s,
    coalesce(list_sort(list(DISTINCT board) FILTER (WHERE NOT ok)), []) AS failed_boards,
    coalesce(list_sort(list(DISTINCT http_status) FILTER (WHERE NOT ok AND http_status IS NOT NULL)), []) AS failed_http_statuses
FROM board_scrapes
GROUP BY 1, 2
ORDER BY scraped_on, source;
