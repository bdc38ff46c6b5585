"""Which routes serve which kind of recording: ``ROUTE_BUILDERS[kind](kind_dir) -> list[Route]``.

A *kind* is a top-level folder of a replay corpus (an ATS name such as ``greenhouse``, or ``hn``).
Its builder gets that folder and returns starlette routes whose paths are the API's own paths
*relative to* ``/{kind}``: the server mounts them there, and the adapters are pointed at
``http://127.0.0.1:PORT/{kind}`` as their base URL.

A route that serves one board names it with a ``{token}`` (or ``{token:path}``) path parameter equal
to the board's file path under ``kind_dir`` without ``.json``; the server then applies latency,
injected faults and random failures to it per board. Other routes get the latency only.

Adding a kind takes one line in its routes module, e.g. in ``jobpipeline/lib/replay/routes_hn.py``::

    from jobpipeline.lib.replay.registry import register_kind
    register_kind("hn", build_hn_routes)   # build_hn_routes(kind_dir: Path) -> list[Route]

and one plain import of that module in ``jobpipeline/lib/replay/server.py`` beside the others, so
that the server's imports list every kind it serves. This module imports none of them (they all
import it; a registry importing its plugins closes an import cycle), and the routes live in this
package, not beside their source (``lib/hn``), so that no source package imports the server's.
"""

from __future__ import annotations

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
    """The builder registered for ``kind``; None if none (that corpus folder is not served)."""
    return ROUTE_BUILDERS.get(kind)
