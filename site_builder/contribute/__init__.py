"""Contributor commands: scaffold a paper from arXiv or Crossref, verify facts, check links, import BibTeX.

Each command is a thin wrapper (see :mod:`.commands`) over a module with one job:

- :mod:`.sources`   what a metadata source says (:class:`SourceRecord`) and the errors commands report
- :mod:`.http`      the one HTTP layer: requests + urllib3 Retry + requests-cache, and polite per-host pacing
- :mod:`.arxiv`, :mod:`.crossref`  fetch and parse the two metadata sources into a :class:`SourceRecord`
- :mod:`.identity`  telling papers apart: surnames, title similarity, the paper id convention
- :mod:`.repository`  the paper files as they are on disk; :mod:`.files` atomic writes
- :mod:`.venues`    guess a taxonomy venue id from free text
- :mod:`.scaffold`  render a new paper file; :mod:`.new` decides what goes in it
- :mod:`.verify`    compare papers with their sources; :mod:`.links` check every URL
- :mod:`.published` find the published version of a preprint; :mod:`.paper_edit` change fields of a paper file in place
- :mod:`.bib_import`  BibTeX entries to paper files; :mod:`.docs` the generated field reference
- :mod:`.awesome_list` read another awesome list; :mod:`.compare_list` compare it with the paper files
"""

from .sources import ContributeError, FetchError, SourceError, SourceRecord

__all__ = ["ContributeError", "FetchError", "SourceError", "SourceRecord"]
