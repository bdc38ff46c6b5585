-- Every job in the store, one row each, with its latest ok enrichment (NULL fields until enriched).
-- Reads the Arrow tables `store_job` and `store_enrichment` registered by build.py.
CREATE OR REPLACE TABLE job_snapshot AS
WITH enrichment AS (
    SELECT
        as_text(content_hash) AS content_hash,
        as_text(model) AS enrichment_model,
        as_text(prompt_version) AS prompt_version,
        list_sort(list_distinct(list_transform(json_strings(skills), lambda s: lower(trim(s))))) AS skills,
        lower(as_text(seniority)) AS seniority,
        lower(as_text(employment_type)) AS employment_type,
        lower(as_text(remote)) AS work_mode,
        json_strings(remote_regions) AS remote_regions,
        as_double(salary_min) AS salary_min,
        as_double(salary_max) AS salary_max,
        upper(as_text(salary_currency)) AS salary_currency,
        lower(as_text(salary_period)) AS salary_period,
        TRY_CAST(as_text(years_experience_min) AS INTEGER) AS years_experience_min,
        as_bool(visa_sponsorship) AS visa_sponsorship,
        as_text(summary) AS summary
    FROM store_enrichment
    -- Latest first: by extraction time where the cache has one, then the newest prompt version.
    QUALIFY row_number() OVER (
        PARTITION BY content_hash ORDER BY as_text(enriched_at) DESC NULLS LAST, as_text(prompt_version) DESC, as_text(model)
    ) = 1
),
job AS (
    SELECT
        CAST(id AS BIGINT) AS job_id,
        as_text(content_hash) AS content_hash,
        as_text(source) AS source,
        as_text(board) AS board,
        as_text(company) AS company,
        as_text(title) AS title,
        as_text(department) AS department,
        coalesce(json_strings(locations), []) AS locations,
        as_bool(remote) AS remote,
        lower(as_text(workplace_type)) AS workplace_type,
        lower(as_text(employment_type)) AS employment_type,
        as_timestamp(posted_at) AS posted_at,
        as_double(salary_min) AS salary_min,
        as_double(salary_max) AS salary_max,
        upper(as_text(salary_currency)) AS salary_currency,
        lower(as_text(salary_period)) AS salary_period,
        as_text(apply_url) AS apply_url,
        as_date(first_seen) AS first_seen,
        as_date(last_seen) AS last_seen,
        as_date(updated_at) AS updated_at,
        as_date(closed_at) AS closed_at,
        coalesce(as_bool(favorite), false) AS favorite,
        as_text(status) AS status
    FROM store_job
),
joined AS (
    SELECT
        j.*,
        e.content_hash IS NOT NULL AS enriched,
        -- The posting's own salary wins; the extracted one only fills a posting without any.
        CASE
            WHEN j.salary_min IS NOT NULL OR j.salary_max IS NOT NULL THEN 'posting'
            WHEN e.salary_min IS NOT NULL OR e.salary_max IS NOT NULL THEN 'extracted'
        END AS salary_source,
        e.seniority, e.skills, e.remote_regions, e.years_experience_min, e.visa_sponsorship, e.summary,
        e.work_mode AS extracted_work_mode, e.employment_type AS extracted_employment_type,
        e.salary_min AS e_salary_min, e.salary_max AS e_salary_max,
        e.salary_currency AS e_salary_currency, e.salary_period AS e_salary_period,
        e.enrichment_model, e.prompt_version
    FROM job j
    LEFT JOIN enrichment e USING (content_hash)
)
SELECT
    job_id, content_hash, source, board, company, title, department, locations,
    closed_at IS NULL AS is_open,
    -- What the API says first; the extraction for the rest.
    coalesce(workplace_type, CASE WHEN remote THEN 'remote' END, extracted_work_mode, 'unknown') AS work_mode,
    remote, workplace_type,
    coalesce(employment_type, extracted_employment_type) AS employment_type,
    coalesce(seniority, 'unknown') AS seniority,
    posted_at, first_seen, last_seen, updated_at, closed_at,
    salary_source,
    CASE salary_source WHEN 'posting' THEN salary_min ELSE e_salary_min END AS salary_min,
    CASE salary_source WHEN 'posting' THEN salary_max ELSE e_salary_max END AS salary_max,
    CASE salary_source WHEN 'posting' THEN salary_currency ELSE e_salary_currency END AS salary_currency,
    CASE salary_source WHEN 'posting' THEN salary_period ELSE e_salary_period END AS salary_period,
    CASE salary_source WHEN 'posting' THEN salary_min ELSE e_salary_min END
        * periods_per_year(CASE salary_source WHEN 'posting' THEN salary_period ELSE e_salary_period END) AS salary_annual_min,
    CASE salary_source WHEN 'posting' THEN salary_max ELSE e_salary_max END
        * periods_per_year(CASE salary_source WHEN 'posting' THEN salary_period ELSE e_salary_period END) AS salary_annual_max,
    enriched, coalesce(skills, []) AS skills, remote_regions, years_experience_min, visa_sponsorship, summary,
    enrichment_model, prompt_version,
    apply_url, favorite, status
FROM joined
ORDER BY job_id;
