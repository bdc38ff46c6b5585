-- Every board scrape recorded in the store (one row per source x board x day), typed.
-- Reads the Arrow table `store_board_scrape` registered by build.py.
CREATE OR REPLACE TABLE board_scrapes AS
SELECT
    CAST(source AS VARCHAR) AS source,
    CAST(board AS VARCHAR) AS board,
    TRY_CAST(scraped_on AS DATE) AS scraped_on,
    coalesce(TRY_CAST(ok AS BOOLEAN), false) AS ok,
    TRY_CAST(http_status AS INTEGER) AS http_status,
    CAST(error AS VARCHAR) AS error,
    coalesce(TRY_CAST(n_postings AS BIGINT), 0) AS n_postings,
    coalesce(TRY_CAST(n_bytes AS BIGINT), 0) AS n_bytes,
    coalesce(TRY_CAST(duration_s AS DOUBLE), 0) AS duration_s
FROM store_board_scrape
ORDER BY scraped_on, source, board;
