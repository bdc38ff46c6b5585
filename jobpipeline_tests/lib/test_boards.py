from __future__ import annotations

from pathlib import Path

import pytest

from jobpipeline.lib.boards import Board, BoardsConfigError, load_boards, write_boards
from jobpipeline.lib.replay import corpus_boards, recorded_boards
from jobpipeline.lib.sources import ADAPTERS
from jobpipeline.settings import REPO_DIR, replay_corpus_dir

SHIPPED = REPO_DIR / "data" / "boards.csv"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "boards.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_lists_at_least_50_real_boards_of_every_ats():
    boards = load_boards(SHIPPED)
    assert len(boards) >= 50
    assert {b.ats for b in boards} == set(ADAPTERS)


def test_shipped_config_is_exactly_the_boards_of_the_shipped_corpus():
    boards = load_boards(SHIPPED)
    on_disk = recorded_boards(replay_corpus_dir(), ADAPTERS)
    assert sorted((b.ats, b.token) for b in boards) == sorted(on_disk)
    assert [b for b in boards] == corpus_boards()


def test_comments_blank_lines_and_quoted_company_names_are_read(tmp_path):
    path = write(
        tmp_path,
        "# boards\n\nats,board_token,company\n"
        "greenhouse,stripe,Stripe\n"
        "  # indented comment\n"
        'ashby,answersnow,"AnswersNow, Inc."\n'
        "workday,nvidia/NVIDIAExternalCareerSite,NVIDIA\n"
        "lever,palantir,\n",
    )
    assert load_boards(path) == [
        Board("greenhouse", "stripe", "Stripe"),
        Board("ashby", "answersnow", "AnswersNow, Inc."),
        Board("workday", "nvidia/NVIDIAExternalCareerSite", "NVIDIA"),
        Board("lever", "palantir", "palantir"),  # empty company falls back to the token
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("ats,board_token,company\ngreenhouse,stripe,Stripe\nnosuchats,acme,Acme\n", r"boards\.csv:3: unknown ATS 'nosuchats'"),
        ("ats,board_token,company\ngreenhouse,stripe,Stripe\n\nashby,,Nobody\n", r"boards\.csv:4: missing board_token"),
        (
            "ats,board_token,company\n# c\ngreenhouse,stripe,Stripe\ngreenhouse,Stripe,Stripe again\n",
            r"boards\.csv:4: duplicate board greenhouse/Stripe \(first on line 3\)",
        ),
        ("ats,board_token,company\nlever,palantir\n", r"boards\.csv:2: expected 3 columns .* got 2"),
        ("ats,board_token,company\nlever,palantir,Palantir,extra\n", r"boards\.csv:2: expected 3 columns .* got 4"),
        ("greenhouse,stripe,Stripe\n", r"boards\.csv:1: expected header"),
        ("ats,board_token,company\nworkday,nvidia,NVIDIA\n", r"boards\.csv:2: bad workday board_token 'nvidia'"),
        ("# only a comment\n", r"empty boards config"),
    ],
)
def test_malformed_config_fails_naming_file_and_line(tmp_path, body, message):
    with pytest.raises(BoardsConfigError, match=message):
        load_boards(write(tmp_path, body))


def test_missing_file_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(BoardsConfigError, match="nope.csv: cannot read"):
        load_boards(tmp_path / "nope.csv")


def test_written_config_reads_back_unchanged(tmp_path):
    boards = [Board("ashby", "Forward Financing", "Forward Financing, LLC"), Board("lever", "palantir", "Palantir")]
    write_boards(tmp_path / "b.csv", boards, comment="two boards\n")
    assert load_boards(tmp_path / "b.csv") == boards
