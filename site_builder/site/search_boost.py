"""How strongly a paper page ranks in the site's search: a boost from how often the corpus cites it.

The theme's search scores a page by its words alone, so "visual prompt tuning" prefers a long title
that repeats those words over VPT, whose title is exactly them. What tells the key papers apart is that
the other entries build on them: their summaries name the method (``improves on VPT``, ``prompts SAM
with ...``) and their reported results reprint it as a baseline. Each paper page's search boost grows
with the logarithm of those mentions (front matter ``search.boost``; MkDocs Material multiplies the
page's scores by it).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

from site_builder.models import Paper

BASE_BOOST = 2.0  # a paper page against category and hand-written pages
MENTION_WEIGHT = 0.6


def base_short_name(short_name: str | None) -> str | None:
    """The method's name without a disambiguating note: ``PromptDet (LiDAR prompts)`` -> ``PromptDet``."""
    if not short_name:
        return None
    return re.sub(r"\s*\([^)]*\)\s*$", "", short_name).strip() or short_name


def mention_counts(papers: Sequence[Paper]) -> dict[str, int]:
    """For each paper: the other papers that name its method in title or summary, or reprint it."""
    citing: dict[str, set[str]] = defaultdict(set)
    names: dict[str, list[str]] = defaultdict(list)
    for paper in papers:
        name = base_short_name(paper.short_name)
        if name and len(name) >= 2:
            names[name].append(paper.id)
        for result in paper.results:
            credited = getattr(result, "paper", None)  # the paper whose method a result row reprints
            if credited and credited != paper.id:
                citing[credited].add(paper.id)
    if names:
        pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                             + r")(?![A-Za-z0-9])")
        for paper in papers:
            for name in set(pattern.findall(f"{paper.title} {paper.summary}")):
                for target in names[name]:
                    if target != paper.id:
                        citing[target].add(paper.id)
    return {p.id: len(citing.get(p.id, ())) for p in papers}


def search_boosts(papers: Sequence[Paper]) -> dict[str, float]:
    counts = mention_counts(papers)
    return {pid: round(BASE_BOOST * (1 + MENTION_WEIGHT * math.log1p(n)), 2) for pid, n in counts.items()}
