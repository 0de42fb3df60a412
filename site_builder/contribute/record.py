"""What a metadata source says about a paper, in one shape for both arXiv and Crossref."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def label(self) -> str:
        return f"{self.source} {self.key}"
