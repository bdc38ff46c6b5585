"""Data-quality rules shared by the checks on ``jobs`` (in the store) and on the analytics (in DuckDB).

Each rule is portable SQL over a table with the named columns, run through ``query`` (one SQL string
in, rows out), so the same rule reads SQLite, PostgreSQL or DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

Query = Callable[[str], Sequence[Sequence[Any]]]
EXAMPLES = 5


@dataclass(frozen=True)
class Outcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _violations(
    rows: Sequence[Sequence[Any]], count_key: str, failing: str, passing: str, example: Callable[[Sequence[Any]], Any]
) -> Outcome:
    """A rule whose query lists its violations: passed when there are none."""
    return Outcome(
        passed=not rows,
        description=failing.format(n=len(rows)) if rows else passing,
        metadata={count_key: len(rows), "examples": [example(r) for r in rows[:EXAMPLES]]},
    )


def open_content_hash_unique(query: Query, table: str = "job") -> Outcome:
    """No two open jobs share a content hash (the sync deduplicates them into one)."""
    rows = query(
        f"SELECT content_hash, count(*) FROM {table} WHERE closed_at IS NULL "
        f"GROUP BY content_hash HAVING count(*) > 1 ORDER BY count(*) DESC, content_hash LIMIT 1000"
    )
    return _violations(
        rows,
        "duplicated_hashes",
        "{n} content hashes shared by several open jobs",
        "every open job has its own content hash",
        lambda r: f"{r[0]} x{r[1]}",
    )


def salary_range_valid(query: Query, table: str = "job", id_column: str = "id") -> Outcome:
    """``salary_min <= salary_max`` wherever both are known."""
    bad = query(f"SELECT {id_column}, salary_min, salary_max FROM {table} WHERE salary_min > salary_max ORDER BY {id_column}")
    return _violations(
        bad,
        "invalid_jobs",
        "{n} jobs with salary_min > salary_max",
        "salary_min <= salary_max everywhere",
        lambda r: f"job {r[0]}: {r[1]} > {r[2]}",
    )


def title_and_company_present(query: Query, table: str = "job", id_column: str = "id") -> Outcome:
    """No job with an empty (or blank) title or company."""
    bad = query(
        f"SELECT {id_column} FROM {table} WHERE trim(coalesce(title, '')) = '' OR trim(coalesce(company, '')) = '' ORDER BY {id_column}"
    )
    return _violations(
        bad, "invalid_jobs", "{n} jobs without a title or company", "every job has a title and a company", lambda r: int(r[0])
    )


def scraped_today(query: Query, today: date, table: str = "board_scrape") -> Outcome:
    """Freshness: some board was scraped for today's partition."""
    latest = query(f"SELECT max(scraped_on) FROM {table}")[0][0]
    latest_day = str(latest)[:10] if latest is not None else None
    passed = latest_day is not None and latest_day >= today.isoformat()
    return Outcome(
        passed=passed,
        description=f"latest scrape {latest_day or 'never'}; today is {today.isoformat()}",
        metadata={"latest_scraped_on": latest_day or "never", "today": today.isoformat()},
    )


def board_failure_share(query: Query, max_share: float, table: str = "board_scrape") -> Outcome:
    """On the latest scraped day, the share of boards that failed stays at or below ``max_share``."""
    rows = query(
        f"SELECT scraped_on, count(*), sum(CASE WHEN ok THEN 0 ELSE 1 END) FROM {table} "
        f"WHERE scraped_on = (SELECT max(scraped_on) FROM {table}) GROUP BY scraped_on"
    )
    day, boards, failed = rows[0] if rows else (None, 0, 0)
    share = (failed or 0) / boards if boards else 0.0
    return Outcome(
        passed=share <= max_share,
        description=f"{failed or 0} of {boards} boards failed on {str(day)[:10] if day else 'no day yet'} "
        f"({share:.0%}; threshold {max_share:.0%})",
        metadata={
            "day": str(day)[:10] if day else "none",
            "boards": int(boards),
            "boards_failed": int(failed or 0),
            "failed_share": round(share, 4),
            "max_share": max_share,
        },
    )
