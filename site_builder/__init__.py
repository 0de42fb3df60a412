"""Awesome Prompt-Based Adaptation: the knowledge base of papers, validated and exported.

Library first: ``load_knowledge_base()`` gives an immutable :class:`KnowledgeBase`; the exporters in
:mod:`site_builder.export` turn it into the README, BibTeX, JSON and the site; ``python -m
site_builder`` is a thin command line over them.
"""

from .knowledge_base import KnowledgeBase, normalise_title
from .load import find_root, load_knowledge_base, validate
from .models import FACETS, Benchmark, Category, CodeLink, Facet, Paper, Result, Taxonomy, Venue
from .problems import KnowledgeBaseError, Problem, ProblemList

__all__ = [
    "FACETS",
    "Benchmark",
    "Category",
    "CodeLink",
    "Facet",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Paper",
    "Problem",
    "ProblemList",
    "Result",
    "Taxonomy",
    "Venue",
    "find_root",
    "load_knowledge_base",
    "normalise_title",
    "validate",
]
