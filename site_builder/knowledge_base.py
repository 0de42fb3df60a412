"""The validated, immutable knowledge base and its queries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from .models import FACETS, Paper, Result, Taxonomy


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed: two spellings of one title compare equal."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _arxiv_sort_key(paper: Paper) -> str:
    return paper.arxiv or ""


@dataclass(frozen=True)
class KnowledgeBase:
    """Papers (sorted by id) and the taxonomy they were validated against. Never mutated."""

    papers: tuple[Paper, ...]
    taxonomy: Taxonomy
    root: Path
    sources: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))

    @cached_property
    def _by_id(self) -> Mapping[str, Paper]:
        return MappingProxyType({p.id: p for p in self.papers})

    def paper(self, paper_id: str) -> Paper:
        return self._by_id[paper_id]

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._by_id

    def __len__(self) -> int:
        return len(self.papers)

    def source_path(self, paper_id: str) -> Path:
        return self.sources.get(paper_id, self.root / "papers" / f"{paper_id}.yaml")

    @cached_property
    def _by_category(self) -> Mapping[tuple[str, str], tuple[Paper, ...]]:
        index: dict[tuple[str, str], list[Paper]] = {}
        for facet in FACETS:
            for category, _ in self.taxonomy.facets[facet].walk():
                wanted = set(self.taxonomy.descendants(facet, category.id))
                index[(facet, category.id)] = [p for p in self.papers if wanted.intersection(getattr(p, facet))]
        return MappingProxyType({k: tuple(v) for k, v in index.items()})

    def papers_in(self, facet: str, category_id: str) -> tuple[Paper, ...]:
        """Papers of a category; a parent category (vp, vpt) includes its children's papers."""
        return self._by_category[(facet, category_id)]

    def vision_only(self) -> KnowledgeBase:
        """The same knowledge base without the papers whose prompts live only in a text encoder."""
        kept = tuple(p for p in self.papers if not p.text_encoder_only)
        return replace(self, papers=kept)

    def papers_of_kind(self, *kinds: str) -> tuple[Paper, ...]:
        return tuple(p for p in self.papers if p.kind in kinds)

    def papers_by_year(self) -> dict[int, tuple[Paper, ...]]:
        years: dict[int, list[Paper]] = {}
        for paper in self.papers:
            years.setdefault(paper.year, []).append(paper)
        return {year: tuple(years[year]) for year in sorted(years)}

    def results_for(self, benchmark_id: str) -> tuple[tuple[Paper, Result], ...]:
        return tuple((p, r) for p in self.papers for r in p.results if r.benchmark == benchmark_id)

    def benchmarks_with_results(self) -> list[str]:
        used = {r.benchmark for p in self.papers for r in p.results}
        return [b.id for b in self.taxonomy.benchmarks if b.id in used]

    def newest(self, n: int) -> tuple[Paper, ...]:
        """The most recent papers: by year, then by arXiv id (later ids are newer), then by id."""
        ordered = sorted(self.papers, key=lambda p: (p.year, _arxiv_sort_key(p), p.id), reverse=True)
        return tuple(ordered[:n])

    def find_duplicate(
        self, *, arxiv: str | None = None, doi: str | None = None, title: str | None = None
    ) -> Paper | None:
        """An existing paper with the same arXiv id, DOI (case-insensitive) or normalised title."""
        wanted_title = normalise_title(title) if title else None
        for paper in self.papers:
            if arxiv and paper.arxiv == arxiv:
                return paper
            if doi and paper.doi and paper.doi.lower() == doi.lower():
                return paper
            if wanted_title and normalise_title(paper.title) == wanted_title:
                return paper
        return None
