"""Config and command-line errors name the file, line or argument, exit 2, and print no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobpipeline.cli import main
from jobpipeline.lib.boards import Board, BoardsConfigError, load_boards
from jobpipeline.lib.sources import ADAPTERS

HEADER = "ats,board_token,company\n"


def test_a_boards_csv_with_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "boards.csv"
    path.write_bytes(("\ufeff" + HEADER + "greenhouse,stripe,Stripe\r\nashby,Forward Financing,Forward\r\n").encode("utf-8"))
    assert load_boards(path) == [Board("greenhouse", "stripe", "Stripe"), Board("ashby", "Forward Financing", "Forward")]


def test_a_boards_csv_that_is_not_utf8_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "boards.csv"
    path.write_bytes(HEADER.encode() + b"greenhouse,stripe,Stripe\nlever,palantir,Caf\xe9 Palantir\n")
    with pytest.raises(BoardsConfigError) as caught:
        load_boards(path)
    assert str(caught.value) == f"{path}:3: not UTF-8 (byte 0xe9 in column 19); save the file as UTF-8"


# Every adapter refuses what is not one path segment of its token: '.', '..', tabs, NUL, bidi
# overrides, newlines. Workday tokens are tenant/site, so there the site is the segment checked (its
# pattern already refused the control characters; '.' and '..' as the site got through).
BAD_TOKENS = {"dot": ".", "dotdot": "..", "tab": "ac\tme", "nul": "ac\x00me", "bidi": "acme\u202e", "newline": "acme\n"}
CASES = [(ats, name) for ats in sorted(ADAPTERS) if ats != "workday" for name in BAD_TOKENS] + [
    ("workday", "dot"),
    ("workday", "dotdot"),
    ("workday", "newline"),
]


@pytest.mark.parametrize(("ats", "name"), CASES)
def test_every_adapter_refuses_tokens_that_are_not_path_segments(ats, name):
    token = BAD_TOKENS[name]
    with pytest.raises(ValueError):
        ADAPTERS[ats].check_token(f"acme/{token}" if ats == "workday" else token)


@pytest.mark.parametrize(("line", "what"), [("lever,..,x", "'..'"), ("greenhouse,ac\tme,x", "control or invisible character '\\t'")])
def test_a_bad_token_in_boards_csv_names_file_and_line(tmp_path, line, what):
    path = tmp_path / "boards.csv"
    path.write_text(HEADER + "greenhouse,stripe,Stripe\n" + line + "\n", encoding="utf-8")
    with pytest.raises(BoardsConfigError, match=rf"^{re.escape(str(path))}:3: .*{re.escape(what)}"):
        load_boards(path)


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-13-45", "--date '2026-13-45' is not a date in YYYY-MM-DD form: partitions are YYYY-MM-DD, from 2025-10-01 to "),
        ("2020-01-01", "--date '2020-01-01' is not a partition: partitions are YYYY-MM-DD, from 2025-10-01 to "),
        ("2026-1-5", "--date '2026-1-5' is not a zero-padded date in YYYY-MM-DD form: partitions are YYYY-MM-DD, from 2025-10-01"),
    ],
)
def test_run_with_a_bad_or_out_of_range_date_exits_2_saying_which_dates_exist(home, capsys, date, message):
    assert main(["run", "--date", date]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jobpipeline run: {message}") and "Traceback" not in err
    assert not (Path(home) / "dagster" / "storage").exists()  # failed before any run started


def test_backfill_shares_the_same_date_check(home, capsys):
    assert main(["backfill", "boards", "--from", "2026-13-45", "--to", "2026-11-02", "--in-process"]) == 2
    assert capsys.readouterr().err.startswith(
        "jobpipeline backfill: --from '2026-13-45' is not a date in YYYY-MM-DD form: partitions are YYYY-MM-DD, from 2025-10-01"
    )
