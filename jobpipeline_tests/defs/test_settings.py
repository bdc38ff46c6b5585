"""One configuration story: every JOBPIPELINE_* variable is read through ``jobpipeline.settings``,
when it is used, so a value set after import counts and a bad one names itself."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from jobpipeline import settings
from jobpipeline.definitions import defs as load_defs
from jobpipeline.defs.resources import LiveJobBoards, ReplayJobBoards, StoreResource, job_boards

PACKAGE = Path(settings.__file__).parent
ENV_READ = re.compile(r"""os\.(?:environ\.get\(|getenv\(|environ\[)\s*["'](?P<name>[A-Z0-9_]+)["']\s*[,)\]](?!\s*=[^=])""")


def test_no_module_but_settings_reads_a_jobpipeline_variable():
    readers = [
        f"{path.relative_to(PACKAGE.parent)}: {match['name']}"
        for path in PACKAGE.rglob("*.py")
        if path != Path(settings.__file__)
        for match in ENV_READ.finditer(path.read_text())
        if match["name"].startswith("JOBPIPELINE_")
    ]
    assert readers == []


def test_every_variable_the_deployments_set_is_a_setting():
    """docker/ and the README name variables users have in their deployments: each must still work."""
    repo = PACKAGE.parent
    texts = [p.read_text() for p in [repo / "README.md", *(repo / "docker").rglob("*")] if p.is_file()]
    named = {m for text in texts for m in re.findall(r"JOBPIPELINE_([A-Z0-9_]*[A-Z0-9])\b", text)}
    named -= {"SCRAPE_POOL_LIMIT"}  # read by docker/pools.sh, not by the package
    named = {n for n in named if not n.startswith(("TEST_", "OPS_"))}  # the test tiers' own
    assert named and named <= {f.upper() for f in settings.Settings.model_fields}, named - {
        f.upper() for f in settings.Settings.model_fields
    }


def test_a_bad_value_names_the_variable_and_what_it_expected(monkeypatch):
    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_MIN_ROWS", "lots")
    with pytest.raises(settings.SettingsError, match=r"JOBPIPELINE_ANALYTICS_MIN_ROWS='lots'.*integer"):
        settings.current()


def test_the_sensor_interval_is_read_when_the_definitions_load_not_at_import(monkeypatch):
    monkeypatch.setenv("JOBPIPELINE_ANALYTICS_SENSOR_INTERVAL_S", "42")
    assert load_defs().resolve_sensor_def("analytics_size_sensor").minimum_interval_seconds == 42


def test_live_or_replay_is_chosen_per_run_by_config_else_by_the_setting(monkeypatch, tmp_path):
    """The project's ``job_boards`` picks the class when a run starts: ``mode`` config first (how
    ``jobpipeline run --live`` asks), else JOBPIPELINE_LIVE as it is then."""
    monkeypatch.setenv("JOBPIPELINE_LIVE", "1")
    with dg.build_resources({"job_boards": job_boards}) as built:
        assert isinstance(built.job_boards, LiveJobBoards)
    monkeypatch.setenv("JOBPIPELINE_LIVE", "0")
    with dg.build_resources({"job_boards": job_boards}) as built:
        assert isinstance(built.job_boards, ReplayJobBoards)
    config = {"job_boards": {"config": {"mode": "live", "retries": 0}}}
    with dg.build_resources({"job_boards": job_boards}, resource_config=config) as built:
        assert isinstance(built.job_boards, LiveJobBoards) and built.job_boards.retries == 0


def test_the_store_finds_its_files_under_the_home_of_the_moment(monkeypatch, tmp_path):
    monkeypatch.delenv("JOBPIPELINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("JOBPIPELINE_RAW_DIR", raising=False)
    monkeypatch.setenv("JOBPIPELINE_HOME", str(tmp_path / "home"))
    store = StoreResource()
    assert store.raw_partition("lever", "2026-01-02").root == tmp_path / "home" / "raw" / "lever" / "2026-01-02"
    assert str(store.engine().url) == f"sqlite:///{tmp_path / 'home' / 'jobpipeline.db'}"
