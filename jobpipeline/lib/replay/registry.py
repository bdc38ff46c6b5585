"""Which routes serve which kind of recording: ``ROUTE_BUILDERS[kind](kind_dir) -> list[Route]``.

A *kind* is a top-level folder of a replay corpus (an ATS name such as ``greenhouse``, or ``hn``).
Its builder gets that folder and returns starlette routes whose paths are the API's own paths
*relative to* ``/{kind}``: the server mounts them there, and the adapters are pointed at
``http://127.0.0.1:PORT/{kind}`` as their base URL.

A route that serves one board names it with a ``{token}`` (or ``{token:path}``) path parameter equal
to the board's file path under ``kind_dir`` without ``.json``; the server then applies latency,
injected faults and random failures to it per board. Other routes get the latency only.

Adding a kind from another module takes one line there, e.g. in ``jobpipeline/lib/hn/replay.py``::

    from jobpipeline.lib.replay.registry import register_kind
    register_kind("hn", build_hn_routes)   # build_hn_routes(kind_dir: Path) -> list[Route]

and nothing here: a corpus folder whose kind is not registered yet is looked up by importing
``jobpipeline.lib.<kind>.replay`` once (see ``builder_for``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from starlette.routing import BaseRoute

RouteBuilder = Callable[[Path], list[BaseRoute]]

ROUTE_BUILDERS: dict[str, RouteBuilder] = {}


def register_kind(kind: str, builder: RouteBuilder) -> RouteBuilder:
    """Serve corpus folder ``kind`` with the routes ``builder`` returns (usable as a decorator factory too)."""
    ROUTE_BUILDERS[kind] = builder
    return builder


def builder_for(kind: str) -> RouteBuilder | None:
    """The builder for ``kind``, importing ``jobpipeline.lib.<kind>.replay`` to find one; None if none."""
    if kind not in ROUTE_BUILDERS and kind.isidentifier():
        plugin = f"jobpipeline.lib.{kind}.replay"
        try:
            importlib.import_module(plugin)
        except ModuleNotFoundError as exc:
            if exc.name not in (plugin, plugin.rpartition(".")[0]):
                raise  # the plugin exists but something it imports does not
    return ROUTE_BUILDERS.get(kind)
