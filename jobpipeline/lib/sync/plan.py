"""What a sync of one partition changes, decided in polars without writing: ``plan_sync`` → ``SyncPlan``.

The plan reads the store only through ``StoreState`` (the current rows of just the keys it asks for),
so it runs the same against the database (``state.DatabaseState``, inside the write transaction)
and against plain frames (``FrameState``, for tests and for a sync planned in slices). Nothing is
written until ``apply.apply_plan``; so every step below sees the store as it was before the sync,
with the earlier steps' planned changes laid over it in memory. The contract it implements is at
the top of ``jobpipeline.lib.sync``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import polars as pl

from jobpipeline.lib.normalize import deduplicate, keys_in_order
from jobpipeline.lib.postings import POSTING_SCHEMA, BoardOutcome, BoardOutcomes

ALIAS = ["source", "board", "source_job_id"]  # a posting's key
JOB_CONTENT = [c for c in POSTING_SCHEMA if c not in ("source", "board", "source_job_id", "description")]
STAMPS = ["first_seen", "last_seen", "content_seen", "updated_at"]
# A job row carrying user data: never rewritten or dropped by a sync.
HAS_USER_DATA = pl.col("favorite") | pl.col("notes").is_not_null() | pl.col("status").is_not_null()

ALIAS_SCHEMA = {
    "source": pl.String,
    "board": pl.String,
    "source_job_id": pl.String,
    "job_id": pl.Int64,
    "content_hash": pl.String,
    "first_seen": pl.Date,
    "last_seen": pl.Date,
    "closed_at": pl.Date,
    "rowid": pl.Int64,  # the stored row's number in SQLite, where a restamp finds it (null elsewhere)
}
JOB_SCHEMA = {
    "job_id": pl.Int64,
    "content_hash": pl.String,
    **{c: pl.String for c in ALIAS},
    "first_seen": pl.Date,
    "last_seen": pl.Date,
    "content_seen": pl.Date,
    "updated_at": pl.Date,
    "closed_at": pl.Date,
    "favorite": pl.Boolean,
    "notes": pl.String,
    "status": pl.String,
}
DEDUP_KEY_SCHEMA = {"dedup_key": pl.String, "job_id": pl.Int64}
HISTORY_SCHEMA = {"job_id": pl.Int64, "content_hash": pl.String, "first_seen": pl.Date}
SKIP_SCHEMA = {"source": pl.String, "board": pl.String, "source_job_id": pl.String, "skipped_on": pl.Date}
SCRAPE_DAY_SCHEMA = {"source": pl.String, "board": pl.String, "scraped_on": pl.Date}
POSTING_JOB_SCHEMA = {"source": pl.String, "board": pl.String, "source_job_id": pl.String, "job_id": pl.Int64, "closed_at": pl.Date}
CLOSING_SCHEMA = {**POSTING_JOB_SCHEMA, "last_seen": pl.Date}  # a posting as the closing pass plans it
MOVE_SCHEMA = {"job_id": pl.Int64, "survivor_id": pl.Int64}
SPAN_SCHEMA = {"id": pl.Int64, "first_seen": pl.Date, "last_seen": pl.Date}

Scope = list[tuple[str, str]]  # (source, board) pairs, sorted


def scope_frame(scope: Scope) -> pl.DataFrame:
    return pl.DataFrame(scope, schema={"source": pl.String, "board": pl.String}, orient="row")


class StoreState(Protocol):
    """The store as it is before the sync, read for the keys the plan asks about (frames with the
    ``*_SCHEMA`` columns above)."""

    def postings_of_boards(self, scope: Scope) -> pl.DataFrame:  # ALIAS_SCHEMA
        ...

    def jobs(self, job_ids: list[int]) -> pl.DataFrame:  # JOB_SCHEMA
        ...

    def jobs_by_dedup_key(self, dedup_keys: list[str]) -> pl.DataFrame:  # DEDUP_KEY_SCHEMA, every job of each key
        ...

    def hash_history(self, job_ids: list[int]) -> pl.DataFrame:  # HISTORY_SCHEMA
        ...

    def latest_skips(self, scope: Scope, except_on: date, except_boards: Collection[tuple[str, str]]) -> pl.DataFrame:
        """SKIP_SCHEMA: each posting's latest skipped day, leaving out ``except_on``'s skips of
        ``except_boards`` (the sync replaces those)."""
        ...

    def successful_scrape_days(self, scope: Scope, after: date) -> pl.DataFrame:  # SCRAPE_DAY_SCHEMA
        ...

    def postings_of_jobs(self, job_ids: list[int]) -> pl.DataFrame:  # POSTING_JOB_SCHEMA
        ...

    def posting_jobs_of_boards(self, scope: Scope) -> pl.DataFrame:  # POSTING_JOB_SCHEMA: the job of each posting of these boards
        ...

    def new_job_ids(self, count: int) -> Sequence[int]:
        """``count`` fresh job ids (allocated under the write lock for the database)."""
        ...


@dataclass
class SyncPlan:
    """Every change one sync makes, as frames named for what they are; ``apply_plan`` writes them."""

    seen_on: date
    synced_at: datetime
    postings: int  # postings in the partition
    jobs: int  # distinct jobs in it after dedup
    outcomes: BoardOutcomes  # board_scrape rows of the day (a re-scrape of the day replaces its skips)
    skipped: pl.DataFrame  # (source, board, source_job_id): listed but unreadable on seen_on
    # Merges: jobs folded into a survivor (postings move, the rest of the job goes), and the
    # survivors' widened first/last seen. ``unmerged``: jobs left apart (two carry user data).
    merged_into: pl.DataFrame  # MOVE_SCHEMA
    merge_spans: pl.DataFrame  # SPAN_SCHEMA
    unmerged: int
    new_jobs: pl.DataFrame  # job rows to insert, ids included
    new_texts: pl.DataFrame  # (job_id, description), or (job_id, text_row) from thin postings (``Postings.texts``)
    hash_history: pl.DataFrame  # HISTORY_SCHEMA rows to upsert (the earlier date of a recorded hash wins)
    rewrites: pl.DataFrame  # job rows whose content is rewritten (id, content, stamps); ``content_changed`` says why
    rewritten_texts: pl.DataFrame  # as ``new_texts``
    restamps: pl.DataFrame  # (id, first_seen, last_seen, content_seen, updated_at) of jobs whose content stays
    existing_jobs: int  # jobs of the partition that were already stored
    frozen_ids: list[int]  # changed upstream but kept as the user saw it
    new_postings: pl.DataFrame  # (source, board, source_job_id, job_id, content_hash, first_seen, last_seen)
    # Known postings whose first/last seen (and hash, if latest) move, with their ``rowid`` (null
    # off SQLite) and whether their hash changes (``rehashed``).
    seen_postings: pl.DataFrame
    posting_closings: pl.DataFrame  # (source, board, source_job_id, closed_at): every posting whose closed_at changes
    job_closings: pl.DataFrame  # (id, closed_at, was_closed_at): every job whose closed_at changes
    touched_ids: list[int] = field(default_factory=list)  # jobs whose search entry must be refreshed

    @property
    def writes_index_keys(self) -> bool:
        """Whether applying the plan puts keys into the store's indexes (new or rewritten jobs, new
        postings, merges): random writes, which a large page cache speeds up. Restamps and
        closings rewrite rows in place (``closed_at``'s index aside: few rows a day)."""
        return any(not frame.is_empty() for frame in (self.new_jobs, self.rewrites, self.new_postings, self.merged_into))


def plan_sync(
    postings: pl.DataFrame,
    state: StoreState,
    *,
    seen_on: date,
    outcomes: Sequence[BoardOutcome] | BoardOutcomes,
    synced_at: datetime,
    closings: bool = True,
) -> SyncPlan:
    """The changes that syncing ``postings`` (``POSTING_SCHEMA`` rows) seen on ``seen_on`` makes to
    the store that ``state`` reads. ``outcomes``: the partition's boards (see ``sync_postings``).

    A sync in slices (``jobpipeline.lib.sync.slices``) plans each slice with ``closings=False``
    (its jobs and postings only: the boards' scrapes and closings are the whole partition's, which
    ``sync.close_in_batches`` writes once the slices are written)."""
    outcomes = BoardOutcomes.of(outcomes) if closings else BoardOutcomes.empty()
    scrapes = DayScrapes.of(outcomes, seen_on) if closings else None  # a slice's plan reads no scrape of the day
    skipped = skipped_ids(outcomes) if closings else pl.DataFrame(schema={c: pl.String for c in ALIAS})
    groups = deduplicate(postings)
    scraped = set(scrapes.ok.select("source", "board").iter_rows()) if scrapes is not None else set()
    scope = sorted(scraped | set(postings.select("source", "board").unique().iter_rows()))

    known = state.postings_of_boards(scope)
    links = (  # (dedup_key, job_id): the jobs each group's known postings belong to
        groups.select("dedup_key", "aliases")
        .explode("aliases")
        .unnest("aliases")
        .join(known.select(*ALIAS, "job_id"), on=ALIAS, how="inner")
        .select("dedup_key", "job_id")
        .unique()
    )
    merged_into, merge_spans, unmerged = plan_merges(links, state)
    known, links = survivors_of(known, merged_into), survivors_of(links, merged_into).unique()
    groups = assign_jobs(groups, links, merged_into, state)
    unassigned = groups.filter(pl.col("job_id").is_null())
    new_ids = pl.DataFrame({"dedup_key": unassigned["dedup_key"], "job_id": state.new_job_ids(unassigned.height)}, schema=DEDUP_KEY_SCHEMA)
    new = unassigned.drop("job_id").join(new_ids, on="dedup_key", maintain_order="left")
    groups = groups.update(new_ids, on="dedup_key")
    existing = groups.filter(~pl.col("dedup_key").is_in(new_ids["dedup_key"].implode()))

    new_jobs = (
        new.select("job_id", "dedup_key", "content_hash", *ALIAS, *JOB_CONTENT)
        .rename({"job_id": "id"})
        .with_columns(
            first_seen=pl.lit(seen_on),
            last_seen=pl.lit(seen_on),
            content_seen=pl.lit(seen_on),
            updated_at=pl.lit(seen_on),
            synced_at=pl.lit(synced_at).dt.replace_time_zone("UTC"),
            favorite=pl.lit(False),
        )
    )
    updates = plan_existing_jobs(existing, merge_spans, state, seen_on)
    new_postings, seen_postings, aliases = plan_postings(groups, known, seen_on)
    # ``closed_at`` of the postings in scope, then of their jobs and of this sync's merge survivors
    # (which gained postings).
    posting_closings, job_closings = no_closings()
    if scrapes is not None:
        changed = plan_posting_closings(aliases, scope, state, scrapes=scrapes, skipped=skipped)
        job_ids = sorted(set(changed["job_id"].to_list()) | set(merged_into["survivor_id"].to_list()))
        if job_ids:
            posting_closings = changed.drop("job_id")
            job_closings = plan_job_closings(
                job_ids,
                state,
                posting_closings=posting_closings,
                new_postings=new_postings,
                merged_into=merged_into,
                new_job_ids=new_ids["job_id"].to_list(),
            )
    survivors, losers = sorted(set(merged_into["survivor_id"].to_list())), sorted(merged_into["job_id"].to_list())
    return SyncPlan(
        seen_on=seen_on,
        synced_at=synced_at,
        postings=postings.height,
        jobs=groups.height,
        outcomes=outcomes,
        skipped=skipped,
        merged_into=merged_into,
        merge_spans=merge_spans,
        unmerged=unmerged,
        new_jobs=new_jobs,
        new_texts=new.select("job_id", text_of(new)),
        hash_history=pl.concat([new.select("job_id", "content_hash", first_seen=pl.lit(seen_on)), updates.hash_history]),
        rewrites=updates.rewrites,
        rewritten_texts=updates.rewritten_texts,
        restamps=updates.restamps,
        existing_jobs=updates.existing_jobs,
        frozen_ids=updates.frozen_ids,
        new_postings=new_postings,
        seen_postings=seen_postings,
        posting_closings=posting_closings,
        job_closings=job_closings,
        touched_ids=survivors + losers + new_ids["job_id"].to_list() + updates.rewrites["id"].to_list(),
    )


def text_of(groups: pl.DataFrame) -> pl.Expr:
    """A group's text as the plan carries it: its description, or, from thin postings, where the
    description lies (``text_row``), read only when it is written."""
    return pl.col("text_row") if "text_row" in groups.columns else pl.col("description").fill_null("")


def plan_merges(links: pl.DataFrame, state: StoreState) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Make one job of the jobs whose postings meet in one group (``links``): returns which job
    goes into which survivor, the survivors' widened first/last seen, and how many jobs stay apart.

    Jobs linked through groups (transitively) form one component. Its survivor is the job with user
    data if one has it (that row is only ever given timestamps), else the job whose canonical
    posting is smallest, which holds the content the merged job has anyway. The others' postings
    move to it, its first/last seen widen, and their rows, texts and hash histories go. A component
    with user data on two jobs is left as it is: neither row may be rewritten or dropped.
    """
    nothing = pl.DataFrame(schema=MOVE_SCHEMA), pl.DataFrame(schema=SPAN_SCHEMA), 0
    spanning = links.filter(pl.col("job_id").n_unique().over("dedup_key") > 1)
    if spanning.is_empty():
        return nothing
    parent: dict[int, int] = {}

    def root(job_id: int) -> int:
        while parent.setdefault(job_id, job_id) != job_id:
            job_id = parent[job_id]
        return job_id

    for ids in spanning.group_by("dedup_key").agg("job_id")["job_id"].to_list():
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    jobs = (
        state.jobs(sorted(parent))
        .with_columns(
            component=pl.col("job_id").map_elements(root, return_dtype=pl.Int64),
            has_user_data=HAS_USER_DATA,
        )
        .sort(pl.col("has_user_data").not_(), *ALIAS, "job_id")
    )  # the survivor first
    moves: list[tuple[int, int]] = []
    spans: list[tuple] = []
    unmerged = 0
    for component in jobs.partition_by("component", maintain_order=True):
        if component["has_user_data"].sum() > 1:
            unmerged += component.height
            continue
        survivor = component["job_id"][0]
        moves.extend((loser, survivor) for loser in component["job_id"][1:])
        spans.append((survivor, component["first_seen"].min(), component["last_seen"].max()))
    if not moves:
        return nothing[0], nothing[1], unmerged
    return (pl.DataFrame(sorted(moves), schema=MOVE_SCHEMA, orient="row"), pl.DataFrame(spans, schema=SPAN_SCHEMA, orient="row"), unmerged)


def survivors_of(frame: pl.DataFrame, merged_into: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each merged job id replaced by its survivor's."""
    if merged_into.is_empty():
        return frame
    return (
        frame.join(merged_into, on="job_id", how="left", maintain_order="left")
        .with_columns(job_id=pl.coalesce("survivor_id", "job_id"))
        .drop("survivor_id")
    )


def assign_jobs(groups: pl.DataFrame, links: pl.DataFrame, merged_into: pl.DataFrame, state: StoreState) -> pl.DataFrame:
    """Give each group its job id: via a known posting first, else the first job with the same dedup key."""
    groups = groups.join(links.group_by("dedup_key").agg(pl.col("job_id").min()), on="dedup_key", how="left", maintain_order="left")
    unlinked = groups.filter(pl.col("job_id").is_null())["dedup_key"].to_list()
    if not unlinked:
        return groups
    same_key = (
        state.jobs_by_dedup_key(unlinked)
        .filter(~pl.col("job_id").is_in(merged_into["job_id"].implode()))  # merged away in this sync
        .group_by("dedup_key")
        .agg(pl.col("job_id").min())
    )
    return groups.update(same_key, on="dedup_key") if not same_key.is_empty() else groups


@dataclass
class ExistingJobUpdates:
    existing_jobs: int
    frozen_ids: list[int]
    hash_history: pl.DataFrame
    rewrites: pl.DataFrame
    rewritten_texts: pl.DataFrame
    restamps: pl.DataFrame


def plan_existing_jobs(groups: pl.DataFrame, merge_spans: pl.DataFrame, state: StoreState, seen_on: date) -> ExistingJobUpdates:
    """Content rewrites, hash history and moved timestamps of the jobs the partition already knew."""
    # Two groups can meet in one job (e.g. its description changed on one source only): the
    # canonical one, first in (source, board, source_job_id) order, speaks for the job. Groups come
    # from ``deduplicate`` in that order, and one a job but where two meet in one: only then are
    # they sorted or made distinct (both, over a slice's 20,000 wide rows: 9-17 ms; the checks 2.5-4).
    if not keys_in_order(groups, strictly=True):
        groups = groups.sort(*ALIAS)
    if groups.get_column("job_id").is_duplicated().any():
        groups = groups.unique("job_id", keep="first", maintain_order=True)
    stored = state.jobs(groups["job_id"].to_list()).drop("closed_at")
    if not merge_spans.is_empty():  # survivors of this sync's merges have their widened span
        stored = stored.update(merge_spans.rename({"id": "job_id"}), on="job_id")
    stored = stored.rename({"content_hash": "stored_hash", **{c: f"stored_{c}" for c in ALIAS}})
    # Decided on the keys, hashes and stamps alone; the content is joined back only to the few
    # jobs rewritten, not carried through every join and filter (with the checks above, a
    # 700k-posting day's 35 slices: 1.45 -> 1.00 s).
    jobs = groups.select("job_id", *ALIAS, "content_hash").join(stored, on="job_id", how="inner")
    alias = pl.concat_str(ALIAS, separator="\x1f")
    stored_alias = pl.concat_str([f"stored_{c}" for c in ALIAS], separator="\x1f")
    today = pl.lit(seen_on)
    jobs = jobs.with_columns(
        # The job's content belongs to its canonical posting (smallest key): it takes over when a
        # smaller one appears, and only its own later sightings rewrite the content.
        takeover=alias < stored_alias,
        newer=(alias < stored_alias) | ((alias == stored_alias) & (today >= pl.col("content_seen"))),
        content_changed=pl.col("content_hash") != pl.col("stored_hash"),
        has_user_data=HAS_USER_DATA,
    )
    # A smaller alias takes the job over even with an equal hash: ids, URLs and posted_at are not hashed.
    rewrite = jobs.filter(pl.col("newer") & (pl.col("content_changed") | pl.col("takeover")) & ~pl.col("has_user_data"))
    frozen = jobs.filter(pl.col("newer") & pl.col("content_changed") & pl.col("has_user_data"))

    # Every differing hash goes to history; an equal hash only when seen earlier than recorded.
    history = jobs.filter(pl.col("content_changed") | (today < pl.col("updated_at"))).select("job_id", "content_hash", first_seen=today)
    # updated_at of a rewritten job: the earliest date its new hash was seen, this sync's included.
    hash_dates = (
        pl.concat([state.hash_history(rewrite["job_id"].to_list()), history])
        .group_by("job_id", "content_hash")
        .agg(updated_at=pl.col("first_seen").min())
    )
    stamps = {
        "first_seen": pl.min_horizontal("first_seen", today),
        "last_seen": pl.max_horizontal("last_seen", today),
        "content_seen": pl.when(pl.col("newer") & ~pl.col("content_changed"))
        .then(pl.max_horizontal("content_seen", today))
        .otherwise("content_seen"),
        "updated_at": pl.when(~pl.col("content_changed")).then(pl.min_horizontal("updated_at", today)).otherwise("updated_at"),
    }
    stamped = jobs.with_columns(**stamps, stamps_moved=pl.any_horizontal(stamp != pl.col(name) for name, stamp in stamps.items()))
    restamps = stamped.filter(pl.col("stamps_moved") & ~pl.col("job_id").is_in(rewrite["job_id"].implode()))
    rewrites = (
        rewrite.select("job_id", "content_changed")
        .join(groups, on="job_id", how="left", maintain_order="left")
        .with_columns(content_seen=today)
        .join(hash_dates, on=["job_id", "content_hash"], how="left", maintain_order="left")
        .join(stamped.select("job_id", "first_seen", "last_seen"), on="job_id", maintain_order="left")
    )
    content_columns = ["dedup_key", "content_hash", *ALIAS, *JOB_CONTENT, "content_seen", "updated_at", "first_seen", "last_seen"]
    return ExistingJobUpdates(
        existing_jobs=jobs.height,
        frozen_ids=frozen["job_id"].to_list(),
        hash_history=history,
        rewrites=rewrites.select(pl.col("job_id").alias("id"), *content_columns, "content_changed"),
        rewritten_texts=rewrites.select("job_id", text_of(rewrites)),
        restamps=restamps.select(pl.col("job_id").alias("id"), *STAMPS),
    )


def plan_postings(groups: pl.DataFrame, known: pl.DataFrame, seen_on: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """New postings, and known ones whose first/last seen (and hash, if latest) move.

    Also returns every posting of the scope as it will stand (job_id, last_seen, closed_at)."""
    incoming = groups.select("job_id", "content_hash", "aliases").explode("aliases").unnest("aliases")
    stored = known.drop("job_id", "closed_at").rename({"content_hash": "stored_hash"})
    rows = incoming.join(stored, on=ALIAS, how="left", maintain_order="left")
    today = pl.lit(seen_on)
    new = rows.filter(pl.col("last_seen").is_null()).select(*ALIAS, "job_id", "content_hash", first_seen=today, last_seen=today)
    known_rows = rows.filter(pl.col("last_seen").is_not_null())
    seen = (
        known_rows.filter((pl.col("last_seen") < today) | (pl.col("first_seen") > today))
        .select(
            *ALIAS,
            "rowid",
            "stored_hash",
            first_seen=pl.min_horizontal("first_seen", today),
            last_seen=pl.max_horizontal("last_seen", today),
            content_hash=pl.when(today >= pl.col("last_seen")).then("content_hash").otherwise("stored_hash"),
        )
        .with_columns(rehashed=pl.col("content_hash") != pl.col("stored_hash"))
        .drop("stored_hash")
    )
    aliases = (
        pl.concat(
            [
                known.select(*ALIAS, "job_id", "last_seen", "closed_at"),
                new.select(*ALIAS, "job_id", "last_seen", closed_at=pl.lit(None, dtype=pl.Date)),
            ]
        )
        .join(incoming.select(*ALIAS, seen=today), on=ALIAS, how="left")
        .with_columns(last_seen=pl.max_horizontal("last_seen", "seen"))
        .drop("seen")
    )
    return new, seen, aliases


def skipped_ids(outcomes: Sequence[BoardOutcome] | BoardOutcomes) -> pl.DataFrame:
    """(source, board, source_job_id) the successful scrapes of ``outcomes`` listed but could not
    read: each once, in order."""
    return (
        BoardOutcomes.of(outcomes)
        .frame.lazy()
        .filter("ok")
        .select("source", "board", pl.col("skipped_ids").alias("source_job_id"))
        .explode("source_job_id")
        .drop_nulls("source_job_id")
        .unique()
        .sort(ALIAS)
        .collect()
    )


def no_closings() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A plan's closings when no ``closed_at`` changes: (postings, jobs)."""
    return (
        pl.DataFrame(schema={**{c: pl.String for c in ALIAS}, "closed_at": pl.Date}),
        pl.DataFrame(schema={"id": pl.Int64, "closed_at": pl.Date, "was_closed_at": pl.Date}),
    )


@dataclass(frozen=True)
class DayScrapes:
    """A sync's scrapes of its day as the closing plan reads them, made once a sync (``of``), not
    per batch of boards: ``recorded``, the boards whose ``board_scrape`` row of ``seen_on`` the
    sync writes (ok or not); ``ok`` and ``rows``, (source, board, scraped_on = ``seen_on``) of the
    successful ones and of all of them (a board given twice is one row; ok if one of its outcomes
    is). At 3.5 M open postings each source has 50,000 boards, closed in 7 batches: with these made
    from the outcomes per batch, the 7 plans took 0.46-0.61 s (on an empty store, its reads
    included); made once, 0.29-0.35 s."""

    seen_on: date
    recorded: frozenset[tuple[str, str]]
    ok: pl.DataFrame
    rows: pl.DataFrame

    @classmethod
    def of(cls, outcomes: Sequence[BoardOutcome] | BoardOutcomes, seen_on: date) -> DayScrapes:
        boards = BoardOutcomes.of(outcomes).frame.select("source", "board", "ok", scraped_on=pl.lit(seen_on))
        day = list(SCRAPE_DAY_SCHEMA)
        return cls(
            seen_on,
            frozenset(boards.select("source", "board").iter_rows()),
            boards.filter("ok").select(day).unique(maintain_order=True),
            boards.select(day).unique(maintain_order=True),
        )


def plan_posting_closings(
    aliases: pl.DataFrame,
    scope: Scope,
    state: StoreState,
    *,
    scrapes: DayScrapes,
    skipped: pl.DataFrame,
) -> pl.DataFrame:
    """(source, board, source_job_id, job_id, closed_at) of every posting of ``aliases`` (the
    postings in scope as they will stand: job_id, last_seen, closed_at) whose ``closed_at`` changes.

    A posting's closing counts from ``listed``: the later of its ``last_seen`` and the latest day a
    successful scrape listed it unread (``board_scrape_skipped``). Only a posting listed on
    ``seen_on`` or later, still open, or closed on or after ``seen_on`` can change (this sync moved
    its ``last_seen``, recorded its skip or the scrape of ``seen_on``); the others keep theirs, and
    only scrapes after the earliest ``listed`` among these are read. Each posting's answer depends
    on its own board alone, so the boards can be planned in batches (``sync.close_in_batches``)."""
    seen_on = scrapes.seen_on
    today = pl.lit(seen_on)
    skips = (
        pl.concat(
            [
                state.latest_skips(scope, seen_on, scrapes.recorded),
                skipped.with_columns(skipped_on=today).join(scope_frame(scope), on=["source", "board"]),
            ]
        )
        .group_by(ALIAS)
        .agg(pl.col("skipped_on").max())
    )
    aliases = aliases.join(skips, on=ALIAS, how="left").with_columns(listed=pl.max_horizontal("last_seen", "skipped_on"))
    candidates = aliases.filter(pl.col("closed_at").is_null() | (pl.col("closed_at") >= today) | (pl.col("listed") >= today))
    if candidates.is_empty():
        return pl.DataFrame(schema=POSTING_JOB_SCHEMA)
    earliest = candidates["listed"].min()
    days = pl.DataFrame(schema=SCRAPE_DAY_SCHEMA)
    if earliest is not None:
        todays_ok = scrapes.ok.join(scope_frame(scope), on=["source", "board"], how="semi")
        days = pl.concat(
            [
                state.successful_scrape_days(scope, earliest).join(scrapes.rows, on=["source", "board", "scraped_on"], how="anti"),
                todays_ok.filter(pl.col("scraped_on") > earliest),
            ]
        )
    derived = candidates.sort("listed").join_asof(
        days.sort("scraped_on"),
        left_on="listed",
        right_on="scraped_on",
        by=["source", "board"],
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    changed = derived.filter(pl.col("closed_at").ne_missing(pl.col("scraped_on")))
    return changed.select(*ALIAS, "job_id", closed_at="scraped_on")


def plan_job_closings(
    job_ids: list[int],
    state: StoreState,
    *,
    posting_closings: pl.DataFrame,
    new_postings: pl.DataFrame,
    merged_into: pl.DataFrame,
    new_job_ids: list[int],
) -> pl.DataFrame:
    """(id, closed_at, was_closed_at) of the jobs of ``job_ids`` whose ``closed_at`` changes: a job
    is closed when every posting of it is closed (at the latest of their dates). Its postings are
    the stored ones with this plan's merges, new postings and ``posting_closings`` laid over them."""
    losers = merged_into.filter(pl.col("survivor_id").is_in(job_ids))["job_id"].to_list()
    stored = state.postings_of_jobs(job_ids + losers)
    postings = (
        pl.concat([survivors_of(stored, merged_into), new_postings.select(*ALIAS, "job_id", closed_at=pl.lit(None, dtype=pl.Date))])
        .unique(ALIAS, keep="first")
        .join(posting_closings.rename({"closed_at": "planned"}).with_columns(replanned=pl.lit(True)), on=ALIAS, how="left")
        .with_columns(closed_at=pl.when(pl.col("replanned")).then("planned").otherwise("closed_at"))
        .filter(pl.col("job_id").is_in(job_ids))
    )
    wanted = set(job_ids)
    stored_jobs = pl.concat(
        [
            state.jobs(job_ids).select("job_id", was_closed_at="closed_at"),
            pl.DataFrame({"job_id": [i for i in new_job_ids if i in wanted]}, schema={"job_id": pl.Int64}).with_columns(
                was_closed_at=pl.lit(None, dtype=pl.Date)
            ),
        ]
    )
    return (
        postings.group_by("job_id")
        .agg(closed_at=pl.when(pl.col("closed_at").null_count() > 0).then(None).otherwise(pl.col("closed_at").max()))
        .join(stored_jobs, on="job_id")
        .filter(pl.col("closed_at").ne_missing(pl.col("was_closed_at")))
        .select(pl.col("job_id").alias("id"), "closed_at", "was_closed_at")
    )
