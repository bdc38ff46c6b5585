-- The latest ok enrichment of each content hash, for the few hashes with several (another model
-- or prompt version): by extraction time where the cache has one, then the newest prompt version.
-- build.py runs this only when some hash has several rows; otherwise `latest_enrichment` is a view.
CREATE OR REPLACE TEMP TABLE latest_enrichment AS
WITH several AS (SELECT content_hash FROM store_enrichment GROUP BY content_hash HAVING count(*) > 1)
SELECT * FROM store_enrichment WHERE content_hash NOT IN (SELECT content_hash FROM several)
UNION ALL
SELECT * FROM store_enrichment WHERE content_hash IN (SELECT content_hash FROM several)
QUALIFY row_number() OVER (
    PARTITION BY content_hash
    ORDER BY CAST(enriched_at AS VARCHAR) DESC NULLS LAST, CAST(prompt_version AS VARCHAR) DESC, CAST(model AS VARCHAR)
) = 1;
