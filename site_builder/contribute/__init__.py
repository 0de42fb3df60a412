"""Contributor commands: scaffold a paper from arXiv or Crossref, verify facts, check links, import BibTeX.

Each command is a thin wrapper (see :mod:`.commands`) over a small module with one job:

- :mod:`.http`      the one HTTP layer: timeouts, retries honouring Retry-After, polite delays, disk cache
- :mod:`.arxiv`, :mod:`.crossref`  fetch and parse the two metadata sources into a :class:`SourceRecord`
- :mod:`.scaffold`  render a new paper file; :mod:`.new` decides what goes in it
- :mod:`.verify`    compare papers with their sources; :mod:`.links` check every URL
- :mod:`.bib_import`  BibTeX entries to paper files; :mod:`.docs` the generated field reference
"""

from .errors import ContributeError, FetchError, SourceError
from .record import SourceRecord

__all__ = ["ContributeError", "FetchError", "SourceError", "SourceRecord"]
