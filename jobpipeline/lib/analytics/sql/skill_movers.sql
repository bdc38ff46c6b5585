-- Top movers: change of each skill's weekly share between the latest week and the week before,
-- ranked by the size of the change (rank 1 = biggest move, up or down). Empty until two weeks exist.
CREATE OR REPLACE TABLE skill_movers AS
WITH latest AS (SELECT max(week) AS week FROM skill_demand_weekly),
weeks AS (
    SELECT week, CAST(week - INTERVAL 7 DAY AS DATE) AS prev_week FROM latest
    WHERE EXISTS (SELECT 1 FROM skill_demand_weekly d, latest l WHERE d.week = CAST(l.week - INTERVAL 7 DAY AS DATE))
),
cur AS (SELECT d.skill, d.jobs, d.share FROM skill_demand_weekly d JOIN weeks w ON d.week = w.week),
prev AS (SELECT d.skill, d.jobs, d.share FROM skill_demand_weekly d JOIN weeks w ON d.week = w.prev_week),
moves AS (
    SELECT
        coalesce(c.skill, p.skill) AS skill,
        (SELECT week FROM weeks) AS week,
        (SELECT prev_week FROM weeks) AS prev_week,
        coalesce(c.jobs, 0) AS jobs,
        coalesce(p.jobs, 0) AS prev_jobs,
        coalesce(c.share, 0) AS share,
        coalesce(p.share, 0) AS prev_share
    FROM cur c FULL OUTER JOIN prev p USING (skill)
)
SELECT
    -- rounded so that float noise (1.0 - 0.8 vs 0.2) does not split ties
    row_number() OVER (ORDER BY round(abs(share - prev_share), 9) DESC, skill) AS rank,
    skill, week, prev_week, jobs, prev_jobs, share, prev_share,
    share - prev_share AS share_change,
    jobs - prev_jobs AS jobs_change,
    CASE WHEN share > prev_share THEN 'up' WHEN share < prev_share THEN 'down' ELSE 'flat' END AS direction
FROM moves
ORDER BY rank;
