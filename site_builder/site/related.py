"""Related papers, ranked by what two papers share, each with the reasons it is related.

A paper's neighbours are scored by four kinds of evidence, each weighted by how rare it is in the
corpus (a shared rare category or term says more than a shared common one):

- categories of every facet, weighted by ``log(N / papers in the category)`` and by facet (the
  prompted encoder is a coarse facet, so it counts half);
- terms of the title and summary (TF-IDF, cosine similarity), which finds papers on the same
  problem that the taxonomy files apart;
- benchmarks both papers report results on;
- authors both papers share.

Candidates come from inverted indexes (category -> papers, term -> papers, ...), so a paper is only
compared with papers that share something; the corpus of 1,000 synthetic papers takes well under a
second. Ties are broken by year (newest first) and id, so the order is deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from site_builder.models import FACETS, Paper

FACET_WEIGHTS = {"method": 1.0, "modality": 0.5, "tasks": 1.0, "domains": 1.3, "settings": 1.3, "trust": 1.3}
TERM_WEIGHT = 4.0  # times the cosine similarity (0..1) of the title and summary terms
BENCHMARK_WEIGHT = 0.8  # per shared benchmark, times its rarity
AUTHOR_WEIGHT = 2.5  # per shared author
COMMON_TERM_SHARE = 0.35  # a term in more papers than this share of the corpus carries no signal
TERM_REASONS = 3  # shared terms named in a reason

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
STOPWORDS = frozenset("""
a an and are as at be by for from in into is it its of on or our over that the their this through to
under via we with without while using use uses used based new towards toward can more than both each
which not all also these those one two three paper method methods approach approaches propose proposes
learn learns learned learning model models task tasks image images vision visual prompt prompts prompting
pre-trained pretrained large-scale frozen
""".split())


def terms_of(text: str) -> list[str]:
    """Lower-case words of at least three letters, without stop words, plural ``-s`` folded.

    >>> terms_of("Prompts for Medical Segmentation with SAM and masks")
    ['medical', 'segmentation', 'sam', 'mask']
    """
    out = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass(frozen=True)
class Relation:
    paper: Paper
    score: float
    reasons: tuple[str, ...]


class RelatedPapers:
    """Scores every pair of papers that share something; :meth:`of` returns a paper's best matches."""

    def __init__(self, papers: Sequence[Paper], *, category_name: Callable[[str, str], str],
                 benchmark_name: Callable[[str], str]) -> None:
        self.papers = {p.id: p for p in papers}
        self._category_name = category_name
        self._benchmark_name = benchmark_name
        n = max(len(self.papers), 1)
        self._categories: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._benchmarks: dict[str, set[str]] = defaultdict(set)
        self._authors: dict[str, set[str]] = defaultdict(set)
        self._postings: dict[str, set[str]] = defaultdict(set)
        counts: dict[str, Counter[str]] = {}
        for paper in papers:
            for facet in FACETS:
                for category_id in getattr(paper, facet):
                    self._categories[(facet, category_id)].add(paper.id)
            for result in paper.results:
                self._benchmarks[result.benchmark].add(paper.id)
            for author in paper.authors:
                self._authors[" ".join(author.lower().split())].add(paper.id)
            counts[paper.id] = Counter(terms_of(f"{paper.title} {paper.short_name or ''} {paper.summary}"))
            for term in counts[paper.id]:
                self._postings[term].add(paper.id)
        self._idf = {t: math.log(n / len(ids)) for t, ids in self._postings.items()
                     if len(ids) > 1 and len(ids) <= max(2, COMMON_TERM_SHARE * n)}
        self._vectors: dict[str, dict[str, float]] = {}
        for paper_id, counter in counts.items():
            vector = {t: (1 + math.log(c)) * self._idf[t] for t, c in counter.items() if t in self._idf}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            self._vectors[paper_id] = {t: v / norm for t, v in vector.items()}
        self._rarity = {key: math.log(n / len(ids)) for key, ids in self._categories.items()}
        self._benchmark_rarity = {key: math.log(1 + n / len(ids)) for key, ids in self._benchmarks.items()}

    def of(self, paper: Paper, limit: int = 6) -> list[Relation]:
        scores: dict[str, float] = defaultdict(float)
        shared_categories: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for facet in FACETS:
            for category_id in getattr(paper, facet):
                key = (facet, category_id)
                weight = self._rarity[key] * FACET_WEIGHTS.get(facet, 1.0)
                for other in self._categories[key]:
                    scores[other] += weight
                    shared_categories[other].append((weight, self._category_name(facet, category_id)))
        shared_terms: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for term, value in self._vectors[paper.id].items():
            for other in self._postings[term]:
                contribution = value * self._vectors[other].get(term, 0.0)
                scores[other] += TERM_WEIGHT * contribution
                shared_terms[other].append((contribution, term))
        shared_benchmarks: dict[str, list[str]] = defaultdict(list)
        for benchmark_id in sorted({r.benchmark for r in paper.results}):
            for other in self._benchmarks[benchmark_id]:
                scores[other] += BENCHMARK_WEIGHT * self._benchmark_rarity[benchmark_id]
                shared_benchmarks[other].append(self._benchmark_name(benchmark_id))
        shared_authors: dict[str, list[str]] = defaultdict(list)
        for author in paper.authors:
            for other in self._authors[" ".join(author.lower().split())]:
                scores[other] += AUTHOR_WEIGHT
                shared_authors[other].append(author)
        scores.pop(paper.id, None)
        ranked = sorted(scores.items(), key=lambda kv: (-round(kv[1], 9), -self.papers[kv[0]].year, kv[0]))
        out = []
        for other_id, score in ranked[:limit]:
            if score <= 0:
                break
            reasons = []
            if shared_authors[other_id]:
                reasons.append("same authors: " + ", ".join(shared_authors[other_id]))
            categories = [name for weight, name in sorted(shared_categories[other_id], key=lambda wn: -wn[0])
                          if weight > 0]
            if categories:
                reasons.append("both " + ", ".join(categories))
            terms = [t for c, t in sorted(shared_terms[other_id], key=lambda ct: (-ct[0], ct[1]))][:TERM_REASONS]
            if terms:
                reasons.append("shared terms: " + ", ".join(terms))
            if shared_benchmarks[other_id]:
                reasons.append("same benchmarks: " + ", ".join(shared_benchmarks[other_id]))
            out.append(Relation(self.papers[other_id], score, tuple(reasons)))
        return out
