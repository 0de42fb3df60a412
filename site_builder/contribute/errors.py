"""Errors a contributor command reports as one clear message (never a traceback)."""

from __future__ import annotations


class ContributeError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message."""


class FetchError(ContributeError):
    """An HTTP request that did not produce an answer.

    ``kind`` says why, so callers can decide what it means for them (the link checker counts a
    timeout as "unknown", not "broken"): ``timeout``, ``connection``, ``rate-limited``,
    ``server-error`` or ``invalid-url``.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class SourceError(ContributeError):
    """A metadata source answered, but not with the record asked for (unknown id, malformed body)."""
