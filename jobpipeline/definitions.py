"""The project's one ``Definitions``: everything under ``jobpipeline/defs/``, loaded by Dagster's
own loader (``dg.load_from_defs_folder``, as ``dg``-managed projects do), so ``dg list defs``,
``dg check defs`` and ``dg scaffold defs`` work on it and a new module under ``defs/`` needs no
registration here.

``defs`` is lazy (``@dg.definitions``): Dagster calls it when the code location loads, so the one
setting a definition itself carries (the size sensor's interval) is read then, not at import; every
other setting is read by the resources, the sensor and the checks when they run. Call ``defs()``.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # pyproject.toml's [tool.dg.project]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
