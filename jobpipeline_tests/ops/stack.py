"""The topology of ``docker/docker-compose.yml`` as local processes, for machines without a container
engine: PostgreSQL (Debian's, through ``setup_postgres.sh``) holding Dagster's instance and the
operational store, the user code as a gRPC code server, ``dagster-webserver`` and ``dagster-daemon``
(queued run coordinator, run retries, run monitoring and the pools of ``docker/pools.sh``), all
reading ``docker/dagster.yaml`` as the containers do. The ``ops`` test tier drives it; a person can
start it too::

    python -m jobpipeline_tests.ops.stack start            # → http://127.0.0.1:3000, state in .stack/
    python -m jobpipeline_tests.ops.stack status
    python -m jobpipeline_tests.ops.stack stop [--purge]   # --purge also drops the two databases

What differs from the compose file, and why: services listen on 127.0.0.1 (ports chosen with
``--port`` / ``--grpc-port``); compute logs go to ``<root>/logs`` instead of the shared volume;
``JOBPIPELINE_HOME`` is ``<root>/data`` instead of ``/data``; scrapes replay the shipped recordings
(``JOBPIPELINE_LIVE=0``) unless the caller's environment says otherwise; the LLM settings are the
caller's ``JOBPIPELINE_LLM_*`` (``rules`` when unset: no model server needed).

Every process is started in its own session and carries ``JOBPIPELINE_TEST_PROCESS=<tag>``, so
``stop`` also finds the run workers the code server spawned, even after they left its group.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
import yaml

from jobpipeline.settings import REPO_DIR
from jobpipeline_tests.ops.helpers import MARKER, cli, free_port, kill_marked, marked_pids

LOCATION = "jobpipeline"
SETUP_POSTGRES = REPO_DIR / "jobpipeline_tests" / "ops" / "setup_postgres.sh"
SERVICES = ("code-server", "webserver", "daemon")  # started in this order; stopped in reverse


@dataclass
class Stack:
    """One stack's settings and state; ``<root>/stack.json`` keeps it between ``start`` and ``stop``."""

    root: Path
    module: str = "jobpipeline.definitions"
    webserver_port: int = 3000
    grpc_port: int = 4000
    tag: str = ""  # the marker value every process of this stack carries
    admin_url: str = ""  # PostgreSQL login with CREATEDB (setup_postgres.sh's role)
    pids: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)  # given to the code server (and so to run workers)

    # -- where things are ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webserver_port}"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def home(self) -> Path:
        """JOBPIPELINE_HOME: raw partitions and analytics.duckdb (the compose stack's /data volume)."""
        return self.root / "data"

    def log(self, service: str) -> Path:
        return self.root / f"{service}.log"

    def database(self, role: str) -> str:
        """``dagster`` or ``store``: one database each, named after the root so two stacks never share one."""
        digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:10]
        return f"jpstack_{digest}_{role}"

    def database_url(self, role: str, driver: str) -> sa.URL:
        return sa.make_url(self.admin_url).set(drivername=f"postgresql+{driver}", database=self.database(role))

    @property
    def store_url(self) -> str:
        return self.database_url("store", "psycopg").render_as_string(hide_password=False)

    # -- state file ----------------------------------------------------------------------------

    def save(self) -> None:
        state = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        (self.root / "stack.json").write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, root: Path) -> Stack:
        path = root / "stack.json"
        if not path.exists():
            raise SystemExit(f"no stack state at {path}: was it started with --root {root}?")
        state = json.loads(path.read_text())
        state["root"] = Path(state["root"])
        return cls(**state)

    # -- environment ---------------------------------------------------------------------------

    def dagster_env(self) -> dict[str, str]:
        """What docker-compose's ``x-dagster-env`` gives every Dagster container, plus the marker."""
        url = sa.make_url(self.admin_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBPIPELINE_", "DAGSTER_"))}
        env["PATH"] = f"{Path(cli('dagster')[0]).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(
            DAGSTER_HOME=str(self.dagster_home),
            DAGSTER_PG_HOST=url.host or "127.0.0.1",
            DAGSTER_PG_PORT=str(url.port or 5432),
            DAGSTER_PG_USER=url.username or "",
            DAGSTER_PG_PASSWORD=url.password or "",
            DAGSTER_PG_DB=self.database("dagster"),
        )
        # Dagster's default 60 s per code-server request is too short on a 2-core machine under load:
        # a timed-out run launch marks the run failed before it starts (seen at load average 27).
        env.setdefault("DAGSTER_GRPC_TIMEOUT_SECONDS", "300")
        env[MARKER] = self.tag
        return env

    def user_code_env(self) -> dict[str, str]:
        """docker-compose's ``user-code`` environment, on this machine's paths."""
        env = self.dagster_env()
        env.update(
            JOBPIPELINE_HOME=str(self.home),
            JOBPIPELINE_DATABASE_URL=self.store_url,
            JOBPIPELINE_LIVE=os.environ.get("JOBPIPELINE_LIVE", "0"),
            JOBPIPELINE_LLM_BACKEND=os.environ.get("JOBPIPELINE_LLM_BACKEND", "rules"),
        )
        env.update({k: v for k, v in os.environ.items() if k.startswith("JOBPIPELINE_LLM_") and k != "JOBPIPELINE_LLM_BACKEND"})
        env.update(self.extra_env)
        return env

    # -- start ---------------------------------------------------------------------------------

    def start(self, timeout_s: float = 300) -> Stack:
        """PostgreSQL databases, instance files, pools, then the three Dagster services; returns once
        the webserver has loaded the code location and the daemon reports healthy."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.tag = self.tag or os.urandom(8).hex()
        if not self.admin_url:
            self.admin_url = _setup_postgres()
        self._create_databases()
        self._write_instance_files()
        self.save()
        pools = subprocess.run(
            ["sh", str(REPO_DIR / "docker" / "pools.sh")], env=self.dagster_env(), capture_output=True, text=True, timeout=180
        )
        if pools.returncode != 0:
            raise RuntimeError(f"docker/pools.sh failed:\n{pools.stdout}{pools.stderr}")
        try:
            workspace = str(self.dagster_home / "workspace.yaml")
            self._spawn(
                "code-server",
                cli(
                    "dagster",
                    "code-server",
                    "start",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.grpc_port),
                    "-m",
                    self.module,
                    "--location-name",
                    LOCATION,
                ),
                self.user_code_env(),
            )
            self._wait("code-server", self._grpc_healthy, timeout_s)
            self._spawn(
                "webserver",
                cli("dagster-webserver", "-h", "127.0.0.1", "-p", str(self.webserver_port), "-w", workspace),
                self.dagster_env(),
            )
            self._spawn("daemon", cli("dagster-daemon", "run", "-w", workspace), self.dagster_env())
            self._wait("webserver", self._location_loaded, timeout_s)
            self._wait("daemon", self._daemons_healthy, timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _create_databases(self) -> None:
        admin = sa.create_engine(sa.make_url(self.admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                existing = {r[0] for r in conn.exec_driver_sql("SELECT datname FROM pg_database")}
                for role in ("dagster", "store"):
                    if self.database(role) not in existing:
                        conn.exec_driver_sql(f'CREATE DATABASE "{self.database(role)}"')
        finally:
            admin.dispose()

    def drop_databases(self) -> None:
        admin = sa.create_engine(sa.make_url(self.admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for role in ("dagster", "store"):
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database(role)}" WITH (FORCE)')
        finally:
            admin.dispose()

    def _write_instance_files(self) -> None:
        """docker/dagster.yaml with the compute logs on this machine; workspace.yaml on 127.0.0.1."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = yaml.safe_load((REPO_DIR / "docker" / "dagster.yaml").read_text())
        config["compute_logs"]["config"]["base_dir"] = str(self.root / "logs")
        (self.dagster_home / "dagster.yaml").write_text(
            "# Written by jobpipeline_tests/ops/stack.py from docker/dagster.yaml (compute logs moved here).\n"
            + yaml.safe_dump(config, sort_keys=False)
        )
        workspace = yaml.safe_load((REPO_DIR / "docker" / "workspace.yaml").read_text())
        for entry in workspace["load_from"]:
            entry["grpc_server"].update(host="127.0.0.1", port=self.grpc_port)
        (self.dagster_home / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))

    def _spawn(self, service: str, argv: list[str], env: dict[str, str]) -> None:
        with self.log(service).open("ab") as out:
            proc = subprocess.Popen(argv, env=env, cwd=self.root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.pids[service] = proc.pid
        self.save()

    def _wait(self, service: str, ready, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: object = "not asked yet"
        while time.monotonic() < deadline:
            if not _alive(self.pids[service]):
                raise RuntimeError(f"{service} exited during start-up:\n{self.log_tail(service)}")
            with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, subprocess.SubprocessError):
                ok, last = ready()
                if ok:
                    return
            time.sleep(1)
        raise RuntimeError(f"{service} not ready after {timeout_s:.0f} s ({last}):\n{self.log_tail(service)}")

    def _grpc_healthy(self) -> tuple[bool, str]:
        done = subprocess.run(
            cli("dagster", "api", "grpc-health-check", "-p", str(self.grpc_port), "--host", "127.0.0.1"),
            env=self.dagster_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.returncode == 0, (done.stdout + done.stderr).strip()[-200:]

    def _location_loaded(self) -> tuple[bool, object]:
        entries = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )["workspaceOrError"]["locationEntries"]
        loaded = bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)
        errors = [e for e in entries if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
        if loaded and errors:
            raise RuntimeError(f"code location failed to load: {errors}")
        return loaded, entries

    def _daemons_healthy(self) -> tuple[bool, object]:
        statuses = self.graphql("{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }")
        daemons = statuses["instance"]["daemonHealth"]["allDaemonStatuses"]
        return all(d["healthy"] for d in daemons if d["required"]), daemons

    # -- use -----------------------------------------------------------------------------------

    def graphql(self, query: str, **variables: object) -> dict:
        """One GraphQL request to the webserver; GraphQL errors raise with the server's message."""
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def log_tail(self, service: str, n: int = 40) -> str:
        path = self.log(service)
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else f"(no {path})"

    def running(self) -> dict[str, bool]:
        return {service: _alive(pid) for service, pid in self.pids.items()}

    # -- stop ----------------------------------------------------------------------------------

    def stop(self, purge: bool = False, grace_s: float = 20) -> None:
        """SIGTERM to each service's group (daemon first, code server last), SIGKILL after ``grace_s``,
        then anything left carrying the stack's marker (run workers). ``purge`` drops both databases."""
        for service in reversed(SERVICES):
            if (pid := self.pids.get(service)) and _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(_alive(p) for p in self.pids.values()) and time.monotonic() < deadline:
            time.sleep(0.3)
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if self.tag:
            kill_marked(self.tag, strict=False)
        self.pids = {}
        if self.root.exists():
            self.save()
        if purge and self.admin_url:
            self.drop_databases()

    def leftover_pids(self) -> list[int]:
        return marked_pids(self.tag) if self.tag else []


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie child, exited but not reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _setup_postgres() -> str:
    """setup_postgres.sh (idempotent): Debian's PostgreSQL on 127.0.0.1:55432; its login URL."""
    done = subprocess.run(["bash", str(SETUP_POSTGRES)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{SETUP_POSTGRES} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobpipeline_tests.ops.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument(
        "--root", type=Path, default=REPO_DIR / ".stack", help="state, logs, DAGSTER_HOME and JOBPIPELINE_HOME (default .stack/)"
    )
    parser.add_argument("--port", type=int, default=3000, help="webserver port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--grpc-port", type=int, default=4000, help="code server port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--module", default="jobpipeline.definitions", help="the code location's module")
    parser.add_argument("--purge", action="store_true", help="stop: also drop the stack's two databases")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.command == "start":
        if (root / "stack.json").exists() and any(Stack.load(root).running().values()):
            print(f"already running: python -m jobpipeline_tests.ops.stack status --root {root}", file=sys.stderr)
            return 1
        stack = Stack(root=root, module=args.module, webserver_port=args.port or free_port(), grpc_port=args.grpc_port or free_port())
        stack.start()
        print(f"jobpipeline stack up: {stack.url}  (logs and state in {root})")
        print(f"  Dagster instance: {stack.database('dagster')}   store: {stack.store_url}")
        return 0
    stack = Stack.load(root)
    if args.command == "status":
        for service, alive in stack.running().items():
            print(f"{service:<12} pid {stack.pids[service]:<8} {'running' if alive else 'DOWN'}   log {stack.log(service)}")
        print(f"webserver    {stack.url}")
        return 0 if stack.running() and all(stack.running().values()) else 1
    stack.stop(purge=args.purge)
    print("stopped" + (" and dropped its databases" if args.purge else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
