"""What the contributor commands share: a metadata source's answer about a paper (:class:`SourceRecord`,
one shape for arXiv and Crossref) and the errors they report as one clear message (never a traceback)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ContributeError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message."""


def read_user_file(path: Path, what: str = "") -> str:
    """A file the user named, as UTF-8 text; a :class:`ContributeError` saying why it cannot be read.
    ``what`` names it in the message ("the exclude file")."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContributeError(f"cannot read {what + ' ' if what else ''}{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ContributeError(f"{path} is not UTF-8 text: save it as UTF-8 and try again") from None


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


@dataclass(frozen=True)
class SourceRecord:
    source: str  # "arXiv" or "Crossref"
    key: str  # the arXiv id or DOI that was asked for
    title: str
    authors: tuple[str, ...]  # "Given Family", in order
    first_family: str  # the first author's family name, as the source gives it
    year: int  # arXiv: year of the first version; Crossref: year of the printed (else issued) version
    accepted_years: tuple[int, ...]  # every year the source gives for this work (Crossref: print, online, issued)
    arxiv: str | None = None
    doi: str | None = None
    venue_text: str | None = None  # arXiv journal_ref, or Crossref container-title
    comment: str | None = None  # arXiv comment ("ECCV 2022, 25 pages")
    published: str | None = None  # the date the year comes from, as the source writes it
    work_type: str | None = None  # Crossref's type: journal-article, proceedings-article, posted-content, ...

    @property
    def label(self) -> str:
        return f"{self.source} {self.key}"
