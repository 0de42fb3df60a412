"""The schema: pydantic models of a paper entry and of taxonomy.yaml.

Models are strict (no coercion: a year written as "2022" or an arXiv id that YAML read as a float is
an error, not silently converted) and closed (``extra="forbid"``: a misspelt key is an error). Rules
that need only one entry live here as validators; rules that compare entries or need the taxonomy
live in :mod:`site_builder.lint`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

FACETS: tuple[str, ...] = ("method", "modality", "tasks", "domains", "settings", "trust")

ID_PATTERN = r"^[a-z][a-z0-9-]{2,63}$"
ARXIV_PATTERN = r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$"
DOI_PATTERN = r"^10\.\d{4,9}/\S+$"
SUMMARY_MAX = 300
FIRST_YEAR = 1950


def max_year() -> int:
    """Papers may carry next year's venue (accepted, not yet held); never later."""
    return _dt.date.today().year + 1


# The usual shape, https://host/path with no space anywhere: host and path without urlparse (three
# urlparse calls per code link were a tenth of validating 10,000 papers). Anything else takes the
# slow path, which gives the message.
_PLAIN_HTTPS = re.compile(r"https://([^/?#\s]+)([^?#\s]*)\S*")


def _https_parts(url: str) -> tuple[str, str]:
    """(host, path) of an https URL, or ValueError saying what is wrong with it."""
    plain = _PLAIN_HTTPS.fullmatch(url)
    if plain is not None:
        return plain[1], plain[2]
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ValueError(f"must be an https:// URL, got {url!r}")
    if any(ch.isspace() for ch in url):
        raise ValueError("a URL cannot contain spaces")
    return parsed.netloc, parsed.path


def _check_https(url: str) -> str:
    _https_parts(url)
    return url


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line: join the lines (use a plain or quoted scalar, not | or >)")
    if value != value.strip():
        raise ValueError("has leading or trailing spaces")
    if not value:
        raise ValueError("must not be empty")
    return value




class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CodeLink(_Strict):
    url: str = Field(description="https URL of a code repository (never arxiv.org or a PDF).")
    official: bool = Field(False, description="true only for the authors' own repository.")

    @field_validator("url")
    @classmethod
    def _code_url(cls, url: str) -> str:
        host, path = _https_parts(url)
        host = host.lower()
        if host == "arxiv.org" or host.endswith(".arxiv.org"):
            raise ValueError("points to arXiv: a code link must lead to code (put the id in `arxiv`)")
        if path.lower().endswith(".pdf"):
            raise ValueError("points to a PDF: a code link must lead to code")
        return url


class Result(_Strict):
    benchmark: str = Field(description="An id from `benchmarks` in taxonomy.yaml.")
    value: float = Field(
        allow_inf_nan=False, description="The number exactly as printed in the paper, in the benchmark's metric."
    )
    method: str = Field(
        min_length=1,
        description="The method's name as its own paper gives it, e.g. VPT-Deep (a table's abbreviation such as "
        "VPT-D can go in source).",
    )
    backbone: str = Field(min_length=1, description="An id from `backbones` in taxonomy.yaml, e.g. vit-b16.")
    pretraining: str = Field(
        min_length=1, description="An id from `pretrainings` in taxonomy.yaml, e.g. in21k-supervised."
    )
    source: str = Field(
        min_length=1,
        description="Where the number is printed: a table of this entry's own paper (its method's rows or the "
        "baselines it reprints), e.g. Table 1, or its official repository's README, e.g. README table 'FGVC'. "
        "Never an aggregator (Papers with Code and the like), an AI summary or memory.",
    )
    paper: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="When the row is a baseline this entry reprints: the id of the paper that proposed the "
        "row's method, if it is in the knowledge base. Leave it out for the entry's own method.",
    )
    baseline: bool = Field(
        False,
        description="true for a baseline this entry reprints whose paper is not in the knowledge base (a row with "
        "`paper` is a baseline anyway; every row of a benchmark, survey or analysis entry is one).",
    )

    @field_validator("method", "backbone", "pretraining", "source")
    @classmethod
    def _single_line(cls, value: str) -> str:
        return _one_line(value)


class Paper(_Strict):
    id: str = Field(
        pattern=ID_PATTERN,
        description="Equals the file name stem and the BibTeX key: first author's surname + year + first "
        "significant title word, e.g. jia2022visual.",
    )
    title: str = Field(min_length=1, description="The title as published, on one line.")
    short_name: str | None = Field(None, min_length=1, description="The method's common name, e.g. VPT.")
    authors: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description='All authors in order, each "Given Family" as published.'
    )
    year: int = Field(description="Year of the venue (of the preprint when there is no venue).")
    venue: str = Field(description="An id from `venues` in taxonomy.yaml; arXiv for preprints.")
    arxiv: str | None = Field(
        None, pattern=ARXIV_PATTERN, description='arXiv id, quoted: "2203.12119" (or old style cs/0101001).'
    )
    doi: str | None = Field(None, pattern=DOI_PATTERN, description="DOI, e.g. 10.1007/978-3-031-19827-4_41.")
    url: str | None = Field(None, description="https landing page, when there is neither arXiv id nor DOI.")
    code: list[CodeLink] = Field(default_factory=list, description="Code repositories; mark the official one.")
    kind: Literal["method", "survey", "benchmark", "analysis"] = Field(
        "method", description="method, survey, benchmark or analysis."
    )
    method: list[str] = Field(
        default_factory=list,
        validate_default=True,  # so that a missing `method` is reported at its own field
        description="Ids of facet `method` (required for kind: method).",
    )
    modality: list[str] = Field(
        default_factory=list,
        validate_default=True,
        description="Ids of facet `modality`: which encoder the prompt acts on (required for kind: method).",
    )
    tasks: list[str] = Field(default_factory=list, description="Ids of facet `tasks`.")
    domains: list[str] = Field(default_factory=list, description="Ids of facet `domains`.")
    settings: list[str] = Field(default_factory=list, description="Ids of facet `settings`.")
    trust: list[str] = Field(default_factory=list, description="Ids of facet `trust`.")
    summary: str = Field(
        min_length=1,
        max_length=SUMMARY_MAX,
        description=f"One or two sentences in our own words, at most {SUMMARY_MAX} characters.",
    )
    results: list[Result] = Field(default_factory=list, description="Reported numbers; see the result fields.")

    @field_validator("title", "short_name", "venue")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return None if value is None else _one_line(value)

    @field_validator("authors")
    @classmethod
    def _authors(cls, authors: list[str]) -> list[str]:
        for name in authors:
            _one_line(name)
        if len(set(authors)) != len(authors):
            raise ValueError("an author is listed twice")
        return authors

    @field_validator("method", "modality")
    @classmethod
    def _required_for_methods(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        # `kind` is declared before both, so it is already in info.data when it was valid
        if info.data.get("kind", "method") == "method" and not ids:
            example = "method: [vpt-learnable]" if info.field_name == "method" else "modality: [visual]"
            raise ValueError(f"required for kind: method, e.g. {example}")
        return ids

    @field_validator("summary")
    @classmethod
    def _summary(cls, summary: str) -> str:
        return " ".join(summary.split())

    @field_validator("year")
    @classmethod
    def _year(cls, year: int) -> int:
        if not FIRST_YEAR <= year <= max_year():
            raise ValueError(f"must be between {FIRST_YEAR} and {max_year()} (next year at the latest)")
        return year

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else _check_https(url)

    @field_validator(*FACETS)
    @classmethod
    def _no_repeats(cls, ids: list[str]) -> list[str]:
        if len(set(ids)) != len(ids):
            raise ValueError("lists a category twice")
        return ids

    @model_validator(mode="after")
    def _whole_entry(self) -> Paper:
        if not (self.arxiv or self.doi or self.url):
            raise ValueError("needs at least one of `arxiv`, `doi` or `url`")
        return self

    # --- derived values used by the exporters -------------------------------------------------
    @property
    def arxiv_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else None

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def primary_url(self) -> str:
        """The link a title points to: the landing page, else arXiv, else the DOI."""
        return self.url or self.arxiv_url or self.doi_url or ""

    @property
    def links(self) -> dict[str, str]:
        out = {}
        if self.arxiv_url:
            out["arXiv"] = self.arxiv_url
        if self.doi_url:
            out["DOI"] = self.doi_url
        if self.url:
            out["Paper"] = self.url
        return out

    @property
    def official_code(self) -> CodeLink | None:
        return next((c for c in self.code if c.official), None)

    @property
    def display_name(self) -> str:
        return self.short_name or self.title

    def categories(self, facet: str) -> list[str]:
        return list(getattr(self, facet))

    @property
    def text_encoder_only(self) -> bool:
        """Prompts that act only on a vision-language model's text encoder: left out of vision-only views."""
        return set(self.modality) == {"textual"}


# --- taxonomy.yaml ------------------------------------------------------------------------------
class Category(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    reference_impl: str | None = Field(None, pattern=r"^[a-z_][a-z0-9_]*$")
    children: list[Category] = Field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple[Category, int]]:
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


class Facet(_Strict):
    title: str
    description: str
    categories: list[Category] = Field(min_length=1)

    def walk(self) -> Iterator[tuple[Category, int]]:
        for category in self.categories:
            yield from category.walk()


class Venue(_Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    name: str
    kind: Literal["conference", "journal", "workshop", "preprint"]


class Benchmark(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    family: str = Field(min_length=1, description="The dataset family the leaderboards index groups it under.")
    metric: str
    higher_is_better: bool
    description: str


class ProtocolTerm(_Strict):
    """One word of the protocol vocabulary: a backbone or a pretraining that result rows name by id."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    aliases: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Other spellings papers use; lint suggests the id for them."
    )


class Taxonomy(_Strict):
    facets: dict[str, Facet]
    venues: list[Venue]
    benchmarks: list[Benchmark]
    backbones: list[ProtocolTerm]
    pretrainings: list[ProtocolTerm]

    @model_validator(mode="after")
    def _complete(self) -> Taxonomy:
        missing = [f for f in FACETS if f not in self.facets]
        extra = [f for f in self.facets if f not in FACETS]
        if missing or extra:
            raise ValueError(f"facets must be exactly {', '.join(FACETS)} (missing: {missing}, unknown: {extra})")
        for name, facet in self.facets.items():
            ids = [c.id for c, _ in facet.walk()]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"facet {name} repeats category ids {dupes}")
        for label, ids in (("venue", [v.id for v in self.venues]), ("benchmark", [b.id for b in self.benchmarks]),
                           ("backbone", [b.id for b in self.backbones]),
                           ("pretraining", [p.id for p in self.pretrainings])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{label} ids repeated: {dupes}")
        if "discrepancies" in {b.id for b in self.benchmarks}:
            raise ValueError("benchmark id 'discrepancies' is reserved: the leaderboards' discrepancies page uses it")
        for label, terms in (("backbone", self.backbones), ("pretraining", self.pretrainings)):
            owners: dict[str, set[str]] = {}
            for term in terms:
                for spelling in {s.casefold() for s in (term.id, term.name, *term.aliases)}:
                    owners.setdefault(spelling, set()).add(term.id)
            clashes = sorted(s for s, ids in owners.items() if len(ids) > 1)
            if clashes:
                raise ValueError(f"{label} spellings shared by two ids (an alias must name one term): {clashes}")
        return self

    def category(self, facet: str, category_id: str) -> Category:
        for category, _ in self.facets[facet].walk():
            if category.id == category_id:
                return category
        raise KeyError(f"{facet}/{category_id}")

    def all_ids(self, facet: str) -> list[str]:
        return [c.id for c, _ in self.facets[facet].walk()]

    def leaf_ids(self, facet: str) -> list[str]:
        return [c.id for c, _ in self.facets[facet].walk() if not c.children]

    def descendants(self, facet: str, category_id: str) -> list[str]:
        """The category's own id and those of everything below it."""
        return [c.id for c, _ in self.category(facet, category_id).walk()]

    def venue(self, venue_id: str) -> Venue:
        for venue in self.venues:
            if venue.id == venue_id:
                return venue
        raise KeyError(venue_id)

    def benchmark(self, benchmark_id: str) -> Benchmark:
        for benchmark in self.benchmarks:
            if benchmark.id == benchmark_id:
                return benchmark
        raise KeyError(benchmark_id)

    def backbone(self, backbone_id: str) -> ProtocolTerm:
        for term in self.backbones:
            if term.id == backbone_id:
                return term
        raise KeyError(backbone_id)

    def pretraining(self, pretraining_id: str) -> ProtocolTerm:
        for term in self.pretrainings:
            if term.id == pretraining_id:
                return term
        raise KeyError(pretraining_id)


PAPER_FIELDS: tuple[str, ...] = tuple(Paper.model_fields)
