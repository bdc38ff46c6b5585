"""What a materialization shows about a table: a markdown preview, its columns, a chart."""

from __future__ import annotations

import io
from datetime import date, datetime

import duckdb
from tabulate import tabulate

PREVIEW_ROWS = 10
_MAX_CELL = 48


def preview_markdown(con: duckdb.DuckDBPyConnection, table: str, rows: int = PREVIEW_ROWS) -> str:
    """The table's first rows (in its stored order) as a GitHub markdown table."""
    cursor = con.execute(f'SELECT * FROM "{table}" LIMIT {int(rows)}')
    data = cursor.fetchall()
    headers = [d[0] for d in cursor.description]
    if not data:
        return f"_{table} is empty_"
    return tabulate([[_cell(v) for v in row] for row in data], headers=headers, tablefmt="github")


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (name, type_)
        for name, type_ in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, (date, datetime)):
        text = value.isoformat()
    elif isinstance(value, list):
        text = ", ".join(map(str, value))
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def skill_demand_chart_png(con: duckdb.DuckDBPyConnection, top: int = 8) -> bytes | None:
    """Weekly share of the ``top`` most demanded skills as a line chart (PNG); None without data.

    matplotlib (Agg, no display) rather than a Vega-Lite spec: the Dagster UI renders an image in
    markdown metadata, but shows a Vega-Lite spec only as JSON.
    """
    rows = con.execute(
        """
        WITH top AS (SELECT skill FROM skill_demand_weekly GROUP BY skill ORDER BY sum(jobs) DESC, skill LIMIT ?)
        SELECT d.week, d.skill, d.share FROM skill_demand_weekly d JOIN top USING (skill) ORDER BY d.skill, d.week
        """,
        [top],
    ).fetchall()
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    series: dict[str, tuple[list, list]] = {}
    for week, skill, share in rows:
        weeks, shares = series.setdefault(skill, ([], []))
        weeks.append(week)
        shares.append(share * 100)
    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.add_subplot()
    for skill, (weeks, shares) in series.items():
        ax.plot(weeks, shares, marker="o", linewidth=1.5, label=skill)
    ax.set_title(f"Skill demand: share of newly seen enriched jobs, top {len(series)} skills")
    ax.set_ylabel("% of jobs")
    ax.set_xlabel("week")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
