"""The static site: pages generated from the knowledge base into ``docs/``, built with MkDocs or Zensical.

``generate_pages(kb, docs_dir)`` writes the pages (pure Python, testable without a builder);
``build_site(kb, root)`` generates them and runs ``mkdocs build --strict`` (or Zensical) into
``root/site``. The same ``mkdocs.yml`` serves both builders.
"""

from .build import SiteBuildError, build_site, builder_available, check_builder, run_builder
from .pages import GENERATED_PATHS, SitePages, generate_pages

__all__ = [
    "GENERATED_PATHS",
    "SiteBuildError",
    "SitePages",
    "build_site",
    "builder_available",
    "check_builder",
    "generate_pages",
    "run_builder",
]
