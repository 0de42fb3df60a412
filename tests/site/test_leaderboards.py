"""Leaderboard logic on small in-memory knowledge bases: merging identical rows across entries,
flagging discrepancies beyond the printed precision, crediting `paper:`, grouping and ranking; and
the same rules on the real corpus (the VPT family under one protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder import load_knowledge_base
from site_builder.knowledge_base import KnowledgeBase
from site_builder.models import Paper, Taxonomy
from site_builder.site.leaderboards import Leaderboards, printed_unit, values_disagree

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = Taxonomy.model_validate(yaml.safe_load((REPO / "taxonomy.yaml").read_text(encoding="utf-8")))


def row(value: float, method: str, *, benchmark: str = "fgvc-mean", backbone: str = "vit-b16",
        pretraining: str = "in21k-supervised", source: str = "Table 1", **extra: Any) -> dict[str, Any]:
    return {"benchmark": benchmark, "value": value, "method": method, "backbone": backbone,
            "pretraining": pretraining, "source": source, **extra}


def paper(paper_id: str, year: int, results: list[dict[str, Any]], **fields: Any) -> Paper:
    data = {"id": paper_id, "title": f"Paper {paper_id}", "short_name": fields.pop("short_name", paper_id.upper()),
            "authors": ["Ada Smith"], "year": year, "venue": "CVPR", "url": f"https://example.org/{paper_id}",
            "method": ["vpt-learnable"], "modality": ["visual"], "summary": "A test entry.", "results": results,
            **fields}
    return Paper.model_validate(data)


def boards(*papers: Paper) -> Leaderboards:
    return Leaderboards(KnowledgeBase(papers=tuple(sorted(papers, key=lambda p: p.id)), taxonomy=TAXONOMY, root=REPO))


# --- precision -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "disagree"), [
    ((79.66, 79.68), True),    # same precision, two units apart
    ((89.1, 89.11), False),    # 89.1 may be 89.10 or 89.11 rounded: within the coarser precision
    ((84.62, 84.66), True),
    ((90.0, 90.0), False),
    ((71.44, 62.41), True),
    ((50.1, 50.07123), False),  # one rounding of the other
    ((88.54, 88.54, 88.54), False),
])
def test_values_disagree_beyond_the_printed_precision(values, disagree):
    assert values_disagree(values) is disagree


def test_printed_unit():
    assert [str(printed_unit(v)) for v in (89.11, 89.1, 89.0, 50.07123)] == ["0.01", "0.1", "1", "0.00001"]


# --- merging and crediting -------------------------------------------------------------------------
def test_identical_rows_of_several_entries_merge_into_one_row_with_every_source():
    vpt = paper("vpt2022", 2022, [row(89.11, "VPT-Deep")])
    later = paper("later2024", 2024, [row(89.11, "VPT-Deep", paper="vpt2022", source="Table 3"),
                                      row(90.5, "Later")])
    board = boards(vpt, later)
    (group,) = board.groups("fgvc-mean")
    assert [(r.rank, r.row.method, r.row.value) for r in group.rows] == [(1, "Later", 90.5), (2, "VPT-Deep", 89.11)]
    merged = group.rows[1].row
    assert merged.credited.id == "vpt2022"  # credited and linked to the method's own paper
    assert [(r.entry.id, r.result.source) for r in merged.reports] == [("vpt2022", "Table 1"), ("later2024", "Table 3")]
    assert not merged.discrepancy and not merged.values_differ
    assert board.summary(TAXONOMY.benchmark("fgvc-mean")).rows == 2


def test_a_reprinted_baseline_is_credited_to_its_paper_not_to_the_reprinting_entry():
    tpt = paper("tpt2022", 2022, [])
    otpt = paper("otpt2025", 2025, [row(60.0, "TPT", paper="tpt2022"), row(58.0, "O-TPT")])
    rows = {r.method: r for r in boards(tpt, otpt).rows("fgvc-mean")}
    assert rows["TPT"].credited.id == "tpt2022"
    assert rows["O-TPT"].credited.id == "otpt2025"
    assert boards(tpt, otpt).credited_elsewhere("tpt2022")[0].reports[0].entry.id == "otpt2025"


def test_values_that_disagree_are_one_row_marked_as_a_discrepancy():
    vpt = paper("vpt2022", 2022, [])
    a = paper("alpha2024", 2024, [row(79.66, "VPT-Shallow", paper="vpt2022")])
    b = paper("beta2025", 2025, [row(79.68, "VPT-Shallow", paper="vpt2022")])
    board = boards(vpt, a, b)
    (merged,) = board.rows("fgvc-mean")
    assert merged.discrepancy and [r.result.value for r in merged.reports] == [79.66, 79.68]
    assert merged.value == 79.66  # no own report: the value most sources print, the oldest on a tie
    (found,) = board.discrepancies()
    assert found[0].id == "fgvc-mean" and found[2].row is merged


def test_the_method_papers_own_value_is_the_one_ranked():
    vpt = paper("vpt2022", 2022, [row(84.62, "VPT-Shallow")])
    others = [paper(f"other202{i}", 2023, [row(84.66, "VPT-Shallow", paper="vpt2022")]) for i in range(3)]
    (merged,) = boards(vpt, *others).rows("fgvc-mean")
    assert merged.value == 84.62 and merged.discrepancy
    assert merged.reports[0].entry.id == "vpt2022"  # the own paper's report first


def test_baselines_without_a_paper_merge_by_name_and_credit_nobody():
    a = paper("alpha2024", 2024, [row(88.54, "Full fine-tuning", baseline=True), row(90.0, "Alpha")])
    bench = paper("bench2024", 2024, [row(88.54, "full  Fine-tuning")], kind="benchmark", method=[], modality=[])
    rows = {r.method: r for r in boards(a, bench).rows("fgvc-mean")}
    full = rows["Full fine-tuning"]
    assert full.credited is None and len(full.reports) == 2  # case and spacing do not split a method
    assert rows["Alpha"].credited.id == "alpha2024"


def test_same_name_different_papers_stay_apart():
    a = paper("alpha2024", 2024, [row(70.0, "DVPT")])
    b = paper("beta2025", 2025, [row(75.0, "DVPT")])
    assert len(boards(a, b).rows("fgvc-mean")) == 2


# --- grouping and ranking --------------------------------------------------------------------------
def test_rank_within_protocol_groups_and_say_so_for_a_group_of_one():
    a = paper("alpha2024", 2024, [row(80.0, "A"), row(50.0, "A", pretraining="mae"),
                                  row(20.0, "A", benchmark="cifar100-lt-ir100-error")])
    b = paper("beta2025", 2025, [row(80.0, "B"), row(70.0, "C"), row(18.0, "B", benchmark="cifar100-lt-ir100-error")])
    board = boards(a, b)
    groups = board.groups("fgvc-mean")
    assert [(g.backbone.id, g.pretraining.id, g.size) for g in groups] == [
        ("vit-b16", "in21k-supervised", 3), ("vit-b16", "mae", 1)]
    assert [(r.rank, r.row.method) for r in groups[0].rows] == [(1, "A"), (1, "B"), (3, "C")]  # ties share a rank
    errors = board.groups("cifar100-lt-ir100-error")[0]  # lower is better
    assert [r.row.value for r in errors.rows] == [18.0, 20.0]


def test_index_groups_boards_by_family_and_counts_rows_and_methods():
    a = paper("alpha2024", 2024, [row(80.0, "A"), row(50.0, "A", pretraining="mae"),
                                  row(70.0, "A", benchmark="vtab1k-natural")])
    families = dict(boards(a).by_family())
    assert list(families)[:2] == ["VTAB-1k", "FGVC"]
    (fgvc,) = families["FGVC"]
    assert (fgvc.rows, fgvc.methods, fgvc.groups) == (2, 1, 2)
    vtab = families["VTAB-1k"]
    assert vtab[0].benchmark.id == "vtab1k-natural" and all(b.rows == 0 for b in vtab[1:])  # empty boards last


# --- the real corpus ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real() -> Leaderboards:
    return Leaderboards(load_knowledge_base(REPO))


@pytest.mark.parametrize("benchmark", ["fgvc-mean", "vtab1k-natural", "vtab1k-specialized", "vtab1k-structured"])
def test_the_vpt_family_is_compared_under_one_protocol(real, benchmark):
    groups = {g.anchor: g for g in real.groups(benchmark)}
    supervised = groups["vit-b16--in21k-supervised"]
    methods = {(r.row.credited.id if r.row.credited else None, r.row.method) for r in supervised.rows}
    assert len(methods) >= 8, methods
    assert ("jia2022visual", "VPT-Deep") in methods and ("jia2022visual", "VPT-Shallow") in methods


@pytest.mark.parametrize("pretraining", ["mae", "moco-v3"])
def test_vpt_appears_under_self_supervised_pretraining_linked_to_its_page(real, pretraining):
    for benchmark in ("vtab1k-natural", "vtab1k-specialized", "vtab1k-structured"):
        group = next(g for g in real.groups(benchmark) if g.anchor == f"vit-b16--{pretraining}")
        vpt = {r.row.method for r in group.rows if r.row.credited and r.row.credited.id == "jia2022visual"}
        assert vpt == {"VPT-Shallow", "VPT-Deep"}, (benchmark, vpt)


def test_the_real_corpus_shows_its_known_discrepancy(real):
    """VFPT prints 79.66 and DA-VPT 79.68 for VPT-Shallow on VTAB-1k Specialized (ViT-B/16, IN-21k)."""
    found = {(b.id, g.anchor, r.row.method): sorted(x.result.value for x in r.row.reports)
             for b, g, r in real.discrepancies()}
    assert found[("vtab1k-specialized", "vit-b16--in21k-supervised", "VPT-Shallow")] == [79.66, 79.68]


# --- the pages ------------------------------------------------------------------------------------
def read(generated, url: str) -> str:
    from site_builder.site import urls

    return (generated.docs / urls.docs_file(url)).read_text(encoding="utf-8")


def test_paper_page_results_table(generated):
    from site_builder.site import urls

    page = read(generated, urls.paper_url("gamma2023deep"))
    table = page[page.index('<table class="pa-results pa-paper-results"'):]
    table = table[:table.index("</table>")]
    rows = [line for line in table.splitlines() if line.startswith("<tr")]
    own = [i for i, line in enumerate(rows) if 'class="pa-own"' in line]
    assert own == [0, 1, 2, 3] and len(rows) == 5  # the entry's own rows first, then the reprinted baseline
    assert "★</span> DeepTok<span" in rows[0]
    assert "(baseline: " in rows[4] and 'href="../alpha2022visual/"' in rows[4]
    assert 'top-1 accuracy (%) <span class="pa-dir" title="higher is better">↑' in rows[0]
    assert "top-1 error (%)" in table and "↓" in table
    assert '<th data-pa-sort="number">Value</th>' in table and "ViT-B/16 · ImageNet-21k supervised" in rows[0]
    # the long source is shortened, the whole text on hover (title) and focus (tabindex), and for screen readers
    assert 'tabindex="0" title="Table 1, the AlphaVP row reprinted from its paper&#39;s main table' in rows[4]
    assert '<span class="pa-src-short" aria-hidden="true">Table 1, the AlphaVP row reprinted from its…</span>' in rows[4]


def test_paper_pages_say_where_else_or_that_nothing_is_recorded(generated):
    from site_builder.site import urls

    alpha = read(generated, urls.paper_url("alpha2022visual"))
    assert 'Also reported in <a href="../gamma2023deep/"' in alpha
    survey = read(generated, urls.paper_url("delta2024survey"))
    assert "No results recorded yet." in survey and "<table class=\"pa-results" not in survey


def test_discrepancies_page(generated):
    from site_builder.site import urls

    page = read(generated, urls.DISCREPANCIES)
    assert "Discrepancies between papers" in page
    assert "None: every number that more than one paper prints agrees" in page  # 70.25 twice agrees
    board = read(generated, urls.leaderboard_url("vtab1k-natural"))
    assert board.count("<strong>70.25</strong>") == 2  # AlphaVP (merged, two sources) and DeepTok-Shallow
    alpha_row = next(line for line in board.splitlines() if '<td data-label="Method">AlphaVP</td>' in line)
    assert "its own paper, Table 2" in alpha_row and 'href="../../papers/gamma2023deep/"' in alpha_row
