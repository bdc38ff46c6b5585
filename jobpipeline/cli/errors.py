"""The one error a verb raises for a user mistake; its own module so that the verbs and the parser
that lists them (``jobpipeline.cli``) both import it without importing each other."""

from __future__ import annotations


class CommandError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""
