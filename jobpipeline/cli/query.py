"""``jobpipeline query``: read-only SQL against the analytics DuckDB file.

    jobpipeline query "SELECT skill, jobs FROM skill_movers ORDER BY rank LIMIT 10"
    jobpipeline query "SELECT * FROM salary_bands" --format csv > bands.csv
    jobpipeline query --list

Only one SELECT (or EXPLAIN) runs; anything else, or SQL that does not parse, is refused with one
line on stderr and exit code 2, and the file is never opened for writing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from jobpipeline import settings
from jobpipeline.cli.errors import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("query", help="run a read-only SQL query against the analytics database")
    parser.add_argument("sql", nargs="?", help='one SELECT statement, e.g. "SELECT * FROM skill_movers LIMIT 10"')
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    parser.add_argument("--list", action="store_true", help="list the tables and their columns")
    parser.add_argument("--db", type=Path, help="DuckDB file (default: JOBPIPELINE_ANALYTICS_DB or <JOBPIPELINE_HOME>/analytics.duckdb)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from jobpipeline.lib.analytics.query import QueryError, list_tables, run_query

    path = args.db or settings.analytics_path()
    try:
        if args.list:
            print(render_tables(list_tables(path), args.format))
            return 0
        if not args.sql:
            raise CommandError('give a SQL query (jobpipeline query "SELECT …") or --list')
        result = run_query(path, args.sql)
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    write(result.columns, result.rows, args.format, sys.stdout)
    return 0


def render_tables(tables: dict[str, list[tuple[str, str]]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({t: [{"column": c, "type": ty} for c, ty in cols] for t, cols in tables.items()}, indent=2)
    if fmt == "csv":
        lines = ["table,column,type", *(f"{t},{c},{ty}" for t, cols in tables.items() for c, ty in cols)]
        return "\n".join(lines)
    if not tables:
        return "(no tables yet)"
    return "\n".join(f"{t}\n  " + "\n  ".join(f"{c:<28} {ty}" for c, ty in cols) for t, cols in tables.items())


def write(columns: list[str], rows: list[tuple], fmt: str, out: Any) -> None:
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_value(v) for v in row] for row in rows])
    elif fmt == "json":
        json.dump([dict(zip(columns, row)) for row in rows], out, default=_json_default, indent=2)
        out.write("\n")
    else:
        from tabulate import tabulate

        out.write(tabulate([[_text(v) for v in row] for row in rows], headers=columns, tablefmt="simple") + "\n")
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=_json_default)
    return "" if value is None else value


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
