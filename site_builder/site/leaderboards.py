"""Leaderboards that compare: one row per reported method and protocol, merged across entries.

Every result row of the knowledge base is a *report*: one entry printing one number. Reports of the
same benchmark, method name, backbone and pretraining that credit the same paper are one leaderboard
row, shown once with every source. The paper a report credits is:

1. its ``paper:`` (a baseline the entry reprints, whose paper is in the knowledge base);
2. nobody for a baseline whose paper is not in the knowledge base (``baseline: true``, or any row of
   a benchmark, survey or analysis entry): such rows of several entries merge by method name;
3. otherwise the entry itself (its own method).

When the reports of a row disagree by more than the printed precision (the coarser number of
decimal places among them: 79.68 and 79.66 disagree, 89.1 and 89.11 do not) the row is a
*discrepancy*. The value a row is ranked by is the one its own paper prints when that paper is among
the sources, else the value most sources print (the oldest source breaks a tie).

Rows are ranked only within a protocol group (same backbone and pretraining), with standard
competition ranking (1, 2, 2, 4). Nothing here renders HTML: :mod:`.pages` and the templates do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from site_builder.knowledge_base import KnowledgeBase
from site_builder.models import Benchmark, Paper, ProtocolTerm, Result


def method_key(name: str) -> str:
    """Case and spacing do not make two methods: "VPT-deep" and "VPT-Deep " are one name."""
    return " ".join(name.casefold().split())


def printed_unit(value: float) -> Decimal:
    """The precision a number is printed with: 89.11 -> 0.01, 89.1 -> 0.1, 89 -> 1.

    Read from the shortest decimal form of the float, so a trailing zero the YAML file had (89.10)
    is gone: the rule then errs towards *not* flagging a difference, never towards flagging one.
    """
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return Decimal(1).scaleb(min(int(exponent), 0))


def values_disagree(values: Iterable[float]) -> bool:
    """True when the values differ by more than the coarsest printed precision among them."""
    numbers = [Decimal(repr(float(v))) for v in values]
    if len(set(numbers)) < 2:
        return False
    tolerance = max(printed_unit(float(n)) for n in numbers)
    return max(numbers) - min(numbers) > tolerance


@dataclass(frozen=True)
class Report:
    """One entry printing one number."""

    entry: Paper
    result: Result


@dataclass(frozen=True)
class BoardRow:
    """One method under one protocol on one benchmark, with every report of it."""

    benchmark: str
    method: str
    credited: Paper | None  # the paper that proposed the method; None: not in the knowledge base
    backbone: str
    pretraining: str
    reports: tuple[Report, ...]  # the credited paper's own report first, then oldest entry first

    @cached_property
    def value(self) -> float:
        own = [r for r in self.reports if self.credited is not None and r.entry.id == self.credited.id]
        if own:
            return own[0].result.value
        counts = Counter(r.result.value for r in self.reports)
        best = max(counts.values())
        return next(r.result.value for r in self.reports if counts[r.result.value] == best)

    @property
    def discrepancy(self) -> bool:
        return values_disagree(r.result.value for r in self.reports)

    @property
    def values_differ(self) -> bool:
        """Several values, whether or not beyond the printed precision."""
        return len({r.result.value for r in self.reports}) > 1


@dataclass(frozen=True)
class RankedRow:
    rank: int
    row: BoardRow


@dataclass(frozen=True)
class ProtocolGroup:
    backbone: ProtocolTerm
    pretraining: ProtocolTerm
    rows: tuple[RankedRow, ...]

    @property
    def anchor(self) -> str:
        return f"{self.backbone.id}--{self.pretraining.id}"

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class BoardSummary:
    benchmark: Benchmark
    rows: int
    methods: int
    groups: int
    discrepancies: int


def _entry_order(entry: Paper) -> tuple[int, str]:
    return (entry.year, entry.id)


def credited_id(entry: Paper, result: Result) -> str | None:
    """The id of the paper a result row credits with its method (None: a paper not in the knowledge base)."""
    if result.paper is not None:
        return result.paper
    if result.baseline or entry.kind != "method":
        return None
    return entry.id


def merge_reports(kb: KnowledgeBase, benchmark_id: str, reports: Iterable[Report]) -> tuple[BoardRow, ...]:
    """The merged rows of one benchmark's reports (unranked), in a stable order."""
    merged: dict[tuple[str | None, str, str, str], list[Report]] = {}
    for report in reports:
        r = report.result
        merged.setdefault((credited_id(report.entry, r), method_key(r.method), r.backbone, r.pretraining),
                          []).append(report)

    rows = []
    for (credited, _, backbone, pretraining), group in merged.items():
        ordered = sorted(group, key=lambda r: (r.entry.id != credited, _entry_order(r.entry)))
        rows.append(BoardRow(
            benchmark=benchmark_id,
            method=ordered[0].result.method,
            credited=kb.paper(credited) if credited is not None and credited in kb else None,
            backbone=backbone,
            pretraining=pretraining,
            reports=tuple(ordered),
        ))
    return tuple(sorted(rows, key=lambda r: (r.backbone, r.pretraining, method_key(r.method),
                                             r.credited.id if r.credited else "")))


def rank_rows(rows: Iterable[BoardRow], *, higher_is_better: bool) -> tuple[RankedRow, ...]:
    """Standard competition ranking (1, 2, 2, 4): equal values share a rank."""
    sign = -1.0 if higher_is_better else 1.0
    ordered = sorted(rows, key=lambda r: (sign * r.value, method_key(r.method), r.credited.id if r.credited else ""))
    ranked: list[RankedRow] = []
    for i, row in enumerate(ordered):
        rank = ranked[-1].rank if ranked and ranked[-1].row.value == row.value else i + 1
        ranked.append(RankedRow(rank, row))
    return tuple(ranked)


def _report_key(entry: Paper, result: Result) -> tuple[str, ...]:
    return (entry.id, result.benchmark, result.method, result.backbone, result.pretraining, result.paper or "")


class Leaderboards:
    """Every board of one knowledge base, computed once: rows, groups, summaries, discrepancies."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @cached_property
    def _rows(self) -> dict[str, tuple[BoardRow, ...]]:
        reports: dict[str, list[Report]] = {b.id: [] for b in self.kb.taxonomy.benchmarks}
        for paper in self.kb.papers:
            for result in paper.results:
                reports.setdefault(result.benchmark, []).append(Report(paper, result))
        return {b: merge_reports(self.kb, b, found) for b, found in reports.items()}

    @cached_property
    def _row_of_report(self) -> dict[tuple[str, ...], BoardRow]:
        return {_report_key(r.entry, r.result): row for rows in self._rows.values() for row in rows for r in row.reports}

    @cached_property
    def _groups(self) -> dict[str, tuple[ProtocolGroup, ...]]:
        return {b.id: self._group(b) for b in self.kb.taxonomy.benchmarks}

    def rows(self, benchmark_id: str) -> tuple[BoardRow, ...]:
        return self._rows.get(benchmark_id, ())

    def row_of(self, entry: Paper, result: Result) -> BoardRow:
        """The leaderboard row an entry's result row belongs to."""
        return self._row_of_report[_report_key(entry, result)]

    def groups(self, benchmark_id: str) -> tuple[ProtocolGroup, ...]:
        """The rows of a benchmark by protocol (backbone, pretraining), ranked; the biggest group first."""
        return self._groups[benchmark_id]

    def _group(self, benchmark: Benchmark) -> tuple[ProtocolGroup, ...]:
        grouped: dict[tuple[str, str], list[BoardRow]] = {}
        for row in self.rows(benchmark.id):
            grouped.setdefault((row.backbone, row.pretraining), []).append(row)
        taxonomy = self.kb.taxonomy
        groups = [
            ProtocolGroup(taxonomy.backbone(b), taxonomy.pretraining(p),
                          rank_rows(rows, higher_is_better=benchmark.higher_is_better))
            for (b, p), rows in grouped.items()
        ]
        return tuple(sorted(groups, key=lambda g: (-g.size, g.backbone.name.lower(), g.pretraining.name.lower())))

    def summary(self, benchmark: Benchmark) -> BoardSummary:
        rows = self.rows(benchmark.id)
        return BoardSummary(
            benchmark=benchmark,
            rows=len(rows),
            methods=len({(r.credited.id if r.credited else None, method_key(r.method)) for r in rows}),
            groups=len({(r.backbone, r.pretraining) for r in rows}),
            discrepancies=sum(r.discrepancy for r in rows),
        )

    def by_family(self) -> list[tuple[str, list[BoardSummary]]]:
        """Every benchmark's summary by dataset family, in taxonomy order; within a family boards with rows
        first (most rows first), empty boards last."""
        families: dict[str, list[BoardSummary]] = {}
        for benchmark in self.kb.taxonomy.benchmarks:
            families.setdefault(benchmark.family, []).append(self.summary(benchmark))
        return [(family, sorted(boards, key=lambda b: (b.rows == 0, -b.rows))) for family, boards in families.items()]

    def discrepancies(self) -> list[tuple[Benchmark, ProtocolGroup, RankedRow]]:
        """Every row whose sources disagree beyond the printed precision, board by board."""
        found = []
        for benchmark in self.kb.taxonomy.benchmarks:
            for group in self.groups(benchmark.id):
                found += [(benchmark, group, ranked) for ranked in group.rows if ranked.row.discrepancy]
        return found

    @cached_property
    def _elsewhere(self) -> dict[str, list[BoardRow]]:
        out: dict[str, list[BoardRow]] = {}
        for benchmark in self.kb.taxonomy.benchmarks:
            for row in self.rows(benchmark.id):
                if row.credited is not None and any(r.entry.id != row.credited.id for r in row.reports):
                    out.setdefault(row.credited.id, []).append(row)
        return out

    def credited_elsewhere(self, paper_id: str) -> list[BoardRow]:
        """Rows crediting a paper that other entries print: where its method is reported besides itself."""
        return self._elsewhere.get(paper_id, [])


def leaderboard_groups(kb: KnowledgeBase, benchmark_id: str) -> tuple[ProtocolGroup, ...]:
    """Shorthand for one board of a knowledge base (tests, scripts)."""
    return Leaderboards(kb).groups(benchmark_id)
