-- Every job in the store, one row each, with its latest ok enrichment (NULL fields until enriched).
-- Reads `store_job` (Arrow registered by build.py) and `latest_enrichment` (_latest_enrichment.sql).
-- Skills keep the extractor's canonical spelling ("Python", "C++").
-- Row order is not kept (query with ORDER BY): writing a million rows in parallel is faster.
SET preserve_insertion_order = false;
CREATE OR REPLACE TABLE job_snapshot AS
WITH enrichment AS (
    SELECT
        CAST(content_hash AS VARCHAR) AS content_hash,
        CAST(model AS VARCHAR) AS enrichment_model,
        CAST(prompt_version AS VARCHAR) AS prompt_version,
        json_strings(skills) AS skills,
        lower(CAST(seniority AS VARCHAR)) AS seniority,
        lower(CAST(employment_type AS VARCHAR)) AS employment_type,
        lower(CAST(remote AS VARCHAR)) AS work_mode,
        json_strings(remote_regions) AS remote_regions,
        TRY_CAST(salary_min AS DOUBLE) AS salary_min,
        TRY_CAST(salary_max AS DOUBLE) AS salary_max,
        upper(CAST(salary_currency AS VARCHAR)) AS salary_currency,
        lower(CAST(salary_period AS VARCHAR)) AS salary_period,
        TRY_CAST(years_experience_min AS INTEGER) AS years_experience_min,
        TRY_CAST(visa_sponsorship AS BOOLEAN) AS visa_sponsorship,
        -- 'api implausible' / 'extracted (api implausible)': the enrichment judged the posting's own
        -- salary impossible for its period and currency (lib/extract/salary.py `plausible`).
        coalesce(CAST(salary_source AS VARCHAR), '') LIKE '%implausible%' AS posting_pay_implausible
    FROM latest_enrichment
),
job AS (
    SELECT
        CAST(id AS BIGINT) AS job_id,
        CAST(content_hash AS VARCHAR) AS content_hash,
        CAST(source AS VARCHAR) AS source,
        CAST(board AS VARCHAR) AS board,
        CAST(company AS VARCHAR) AS company,
        CAST(title AS VARCHAR) AS title,
        CAST(department AS VARCHAR) AS department,
        coalesce(json_strings(locations), []) AS locations,
        TRY_CAST(remote AS BOOLEAN) AS remote,
        lower(CAST(workplace_type AS VARCHAR)) AS workplace_type,
        lower(CAST(employment_type AS VARCHAR)) AS employment_type,
        TRY_CAST(posted_at AS TIMESTAMP) AS posted_at,
        TRY_CAST(salary_min AS DOUBLE) AS salary_min,
        TRY_CAST(salary_max AS DOUBLE) AS salary_max,
        upper(CAST(salary_currency AS VARCHAR)) AS salary_currency,
        lower(CAST(salary_period AS VARCHAR)) AS salary_period,
        CAST(apply_url AS VARCHAR) AS apply_url,
        TRY_CAST(first_seen AS DATE) AS first_seen,
        TRY_CAST(last_seen AS DATE) AS last_seen,
        TRY_CAST(closed_at AS DATE) AS closed_at
    FROM store_job
),
joined AS (
    SELECT
        j.*,
        e.content_hash IS NOT NULL AS enriched,
        -- The posting's own salary wins, unless the enrichment found it impossible (an intern's "$150 a
        -- year"); the extracted one fills a posting without any.
        CASE
            WHEN (j.salary_min IS NOT NULL OR j.salary_max IS NOT NULL) AND NOT coalesce(e.posting_pay_implausible, false)
                THEN 'posting'
            WHEN e.salary_min IS NOT NULL OR e.salary_max IS NOT NULL THEN 'extracted'
        END AS salary_source,
        e.seniority, e.skills, e.remote_regions, e.years_experience_min, e.visa_sponsorship,
        e.work_mode AS extracted_work_mode, e.employment_type AS extracted_employment_type,
        e.salary_min AS e_salary_min, e.salary_max AS e_salary_max,
        e.salary_currency AS e_salary_currency, e.salary_period AS e_salary_period,
        e.enrichment_model, e.prompt_version
    FROM job j
    LEFT JOIN enrichment e USING (content_hash)
),
paid AS (
    SELECT
        *,
        CASE salary_source WHEN 'posting' THEN salary_min ELSE e_salary_min END AS pay_min,
        CASE salary_source WHEN 'posting' THEN salary_max ELSE e_salary_max END AS pay_max,
        CASE salary_source WHEN 'posting' THEN salary_currency ELSE e_salary_currency END AS pay_currency,
        CASE salary_source WHEN 'posting' THEN salary_period ELSE e_salary_period END AS pay_period
    FROM joined
)
SELECT
    job_id, content_hash, source, board, company, title, department, locations,
    closed_at IS NULL AS is_open,
    -- What the API says first; the extraction for the rest.
    coalesce(workplace_type, CASE WHEN remote THEN 'remote' END, extracted_work_mode, 'unknown') AS work_mode,
    remote, workplace_type,
    coalesce(employment_type, extracted_employment_type) AS employment_type,
    coalesce(seniority, 'unknown') AS seniority,
    posted_at, first_seen, last_seen, closed_at,
    salary_source,
    pay_min AS salary_min, pay_max AS salary_max, pay_currency AS salary_currency, pay_period AS salary_period,
    pay_min * periods_per_year(pay_period) AS salary_annual_min,
    pay_max * periods_per_year(pay_period) AS salary_annual_max,
    enriched, coalesce(skills, []) AS skills, remote_regions, years_experience_min, visa_sponsorship,
    enrichment_model, prompt_version,
    apply_url
FROM paid;
RESET preserve_insertion_order;
