"""The boards to scrape: one ``Board`` per line of a small CSV (``ats,board_token,company``).

A malformed file fails at load, naming the file and line, so a typo never turns into a silent
"0 postings" board at scrape time.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from jobpipeline.lib.postings import Board
from jobpipeline.lib.sources import ADAPTERS

HEADER = ("ats", "board_token", "company")


__all__ = ["Board", "BoardsConfigError", "append_boards", "load_boards", "write_boards"]  # Board lives in postings.py


class BoardsConfigError(ValueError):
    """The boards config is malformed; the message names the file and line."""


def load_boards(path: str | Path, known_ats: Iterable[str] | None = None) -> list[Board]:
    """Boards listed in the CSV at ``path``, in file order.

    Blank lines and lines starting with ``#`` are skipped; the first other line must be the header
    ``ats,board_token,company``. An empty company falls back to the token. ``known_ats`` defaults
    to the registered source adapters; each adapter also checks its own token format (one URL path
    segment, not ``.``/``..``, no control characters). A UTF-8 byte-order mark (what spreadsheet
    programs write) is accepted; bytes that are not UTF-8 are an error naming the line.
    """
    path = Path(path)
    adapters = {name: ADAPTERS.get(name) for name in (known_ats if known_ats is not None else ADAPTERS)}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BoardsConfigError(f"{path}: cannot read boards config: {exc.strerror or exc}") from exc
    bom = b"\xef\xbb\xbf"
    body = raw[len(bom) :] if raw.startswith(bom) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = body[: exc.start].count(b"\n") + 1
        column = exc.start - body.rfind(b"\n", 0, exc.start)
        raise BoardsConfigError(
            f"{path}:{lineno}: not UTF-8 (byte 0x{body[exc.start]:02x} in column {column}); save the file as UTF-8"
        ) from None

    boards: list[Board] = []
    first_seen: dict[tuple[str, str], int] = {}
    header_seen = False
    for lineno, line in enumerate(text.split("\n"), start=1):  # only \n ends a line: other breaks are errors
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{lineno}"
        fields = [f.strip() for f in next(csv.reader([line]))]
        control = next((c for f in fields for c in f if not c.isprintable()), None)
        if control is not None:
            raise BoardsConfigError(f"{where}: control or invisible character {control!r} in {line.strip()!r}")
        if not header_seen:
            if tuple(f.lower() for f in fields) != HEADER:
                raise BoardsConfigError(f"{where}: expected header {','.join(HEADER)!r}, got {line.strip()!r}")
            header_seen = True
            continue
        if len(fields) != len(HEADER):
            raise BoardsConfigError(f"{where}: expected {len(HEADER)} columns ({','.join(HEADER)}), got {len(fields)}: {line.strip()!r}")
        ats, token, company = fields
        ats = ats.lower()
        if ats not in adapters:
            raise BoardsConfigError(f"{where}: unknown ATS {ats!r} (known: {', '.join(sorted(adapters))})")
        if not token:
            raise BoardsConfigError(f"{where}: missing board_token for ATS {ats!r}")
        adapter = adapters[ats]
        if adapter is not None:
            try:
                adapter.check_token(token)
            except ValueError as exc:
                raise BoardsConfigError(f"{where}: bad {ats} board_token {token!r}: {exc}") from None
        dedup_key = (ats, token.lower())  # ATS tokens are case-insensitive in practice
        if dedup_key in first_seen:
            raise BoardsConfigError(f"{where}: duplicate board {ats}/{token} (first on line {first_seen[dedup_key]})")
        first_seen[dedup_key] = lineno
        boards.append(Board(ats=ats, token=token, company=company or token))
    if not header_seen:
        raise BoardsConfigError(f"{path}: empty boards config (expected header {','.join(HEADER)!r})")
    return boards


def write_boards(path: str | Path, boards: Iterable[Board], comment: str = "") -> None:
    """Write ``boards`` as a config that ``load_boards`` reads back unchanged."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        for line in comment.splitlines():
            out.write(f"# {line}\n".replace("# \n", "#\n"))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for board in boards:
            writer.writerow((board.ats, board.token, board.company))


def append_boards(path: str | Path, boards: Iterable[Board]) -> tuple[list[Board], list[Board]]:
    """Append ``boards`` to the config at ``path``; returns ``(added, already_there)``.

    A board already in the file (same ATS, same token up to case, as ``load_boards`` compares them)
    or twice in ``boards`` is not written again. The existing file is loaded first, so a file that is
    already malformed is refused (``BoardsConfigError``) rather than appended to; the new content is
    checked by loading it back and then replaces the file atomically, so nothing already listed is
    ever lost to a failed write. A missing file is created with the header.
    """
    path = Path(path)
    existing = load_boards(path) if path.exists() else []
    seen = {(b.ats, b.token.lower()) for b in existing}
    added: list[Board] = []
    already_there: list[Board] = []
    for board in boards:
        key = (board.ats, board.token.lower())
        (already_there if key in seen else added).append(board)
        seen.add(key)
    if not added:
        return added, already_there
    old = path.read_bytes() if path.exists() else ",".join(HEADER).encode() + b"\n"
    if old and not old.endswith(b"\n"):
        old += b"\n"
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    for board in added:
        writer.writerow((board.ats, board.token, board.company))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(old + lines.getvalue().encode("utf-8"))
        try:
            load_boards(tmp)  # what we are about to install reads back (a bad token fails here, file untouched)
        except BoardsConfigError as exc:
            raise BoardsConfigError(str(exc).replace(str(tmp), str(path))) from None
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return added, already_there
