-- Every board scrape recorded in the store (one row per source x board x day), typed.
-- Reads the Arrow table `store_board_scrape` registered by build.py.
CREATE OR REPLACE TABLE board_scrapes AS
SELECT
    as_text(source) AS source,
    as_text(board) AS board,
    as_date(scraped_on) AS scraped_on,
    coalesce(as_bool(ok), false) AS ok,
    TRY_CAST(as_text(http_status) AS INTEGER) AS http_status,
    as_text(error) AS error,
    coalesce(TRY_CAST(as_text(n_postings) AS BIGINT), 0) AS n_postings,
    coalesce(TRY_CAST(as_text(n_bytes) AS BIGINT), 0) AS n_bytes,
    coalesce(as_double(duration_s), 0) AS duration_s
FROM store_board_scrape
ORDER BY scraped_on, source, board;
