"""One workplace vocabulary: the adapters' labels, the HN headline wording and the extractor agree.

Enrichment reads a stored ``workplace_type`` back through ``lib/sources/base.workplace``; a value
outside the vocabulary ("on-site" from one mapping, "onsite" from another) would be dropped there
and the API's say on remote work lost. The HN values come from the three recorded threads.
"""

from __future__ import annotations

from typing import get_args

from jobpipeline.lib.extract.schema import RemoteMode
from jobpipeline.lib.hn import parse_thread
from jobpipeline.lib.sources.base import WORKPLACE_TYPES, WORKPLACE_VALUES, workplace
from jobpipeline_tests.hn.conftest import recorded_thread


def test_adapter_labels_and_extractor_answers_share_one_vocabulary() -> None:
    assert set(WORKPLACE_TYPES.values()) == set(WORKPLACE_VALUES)
    assert set(get_args(RemoteMode)) == set(WORKPLACE_VALUES)
    # A stored value reads back as itself (enrich's apply_api_values reads it through ``workplace``).
    assert [workplace(value) for value in WORKPLACE_VALUES] == list(WORKPLACE_VALUES)


def test_hn_headlines_map_into_the_same_vocabulary() -> None:
    seen: set[str] = set()
    for month in ("2011-04", "2019-11", "2020-02"):
        postings, _ = parse_thread(recorded_thread(month), month)
        for p in postings:
            if p.workplace_type is not None:
                assert p.workplace_type in WORKPLACE_VALUES, (month, p.source_job_id, p.workplace_type)
                assert workplace(p.workplace_type) == p.workplace_type
                seen.add(p.workplace_type)
    assert seen == set(WORKPLACE_VALUES)  # every value occurs in the recorded threads
