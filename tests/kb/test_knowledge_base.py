"""The validated KnowledgeBase: the real corpus, loading, immutability and the queries."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

import pytest

from site_builder import KnowledgeBase, KnowledgeBaseError, load_knowledge_base, normalise_title, validate
from site_builder.load import find_root

from .tmp_repo import REPO, make_repo, paper_data, write_paper


def test_the_real_corpus_validates_without_errors() -> None:
    kb, problems = validate(REPO)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert errors == [], "\n".join(errors)
    assert kb is not None and len(kb) > 0


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A small knowledge base with known categories, years, arXiv ids and results."""
    root = make_repo(tmp_path_factory.mktemp("kb"), with_valid_paper=False)
    row = {"backbone": "vit-b16", "pretraining": "in21k-supervised", "source": "Table 1"}
    papers = [
        paper_data("fixed2021points", year=2021, method=["vp-fixed"], tasks=["segmentation"], arxiv="2104.00001",
                   url=None),
        paper_data("learn2022pad", year=2022, method=["vp-learnable"], arxiv="2203.00002", url=None,
                   results=[{"benchmark": "cifar10", "value": 80.0, "method": "Pad", **row}]),
        paper_data("token2022deep", year=2022, method=["vpt-learnable"], arxiv="2203.00001", url=None,
                   doi="10.1234/Token.2022", tasks=["classification"], settings=["few-shot"],
                   results=[{"benchmark": "cifar10", "value": 90.0, "method": "Deep", **row},
                            {"benchmark": "fgvc-mean", "value": 85.0, "method": "Deep", **row}]),
        paper_data("gen2023tokens", year=2023, method=["vpt-generated"], tasks=["classification"]),
        paper_data("both2023mixed", year=2023, method=["vp-generated", "vpt-learnable"], arxiv="2301.00001", url=None),
        paper_data("survey2024field", year=2024, kind="survey", method=[], modality=[], title="A Survey of Visual Prompting"),
    ]
    for data in papers:
        write_paper(root, data)
    return load_knowledge_base(root)


def ids(papers: tuple) -> list[str]:
    return [p.id for p in papers]


def test_papers_are_sorted_by_id_and_addressable(kb: KnowledgeBase) -> None:
    assert ids(kb.papers) == sorted(ids(kb.papers)) and len(kb) == 6
    assert kb.paper("token2022deep").year == 2022
    assert "gen2023tokens" in kb and "nobody2020nothing" not in kb
    assert kb.source_path("gen2023tokens") == kb.root / "papers" / "gen2023tokens.yaml"
    with pytest.raises(KeyError):
        kb.paper("nobody2020nothing")


def test_knowledge_base_is_immutable(kb: KnowledgeBase) -> None:
    assert isinstance(kb.papers, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.papers = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        kb.sources["x"] = Path("x")  # type: ignore[index]


def test_papers_in_a_leaf_category(kb: KnowledgeBase) -> None:
    assert ids(kb.papers_in("method", "vpt-learnable")) == ["both2023mixed", "token2022deep"]
    assert ids(kb.papers_in("method", "vp-fixed")) == ["fixed2021points"]
    assert ids(kb.papers_in("tasks", "classification")) == ["gen2023tokens", "token2022deep"]
    assert kb.papers_in("trust", "privacy") == ()


def test_a_parent_category_includes_its_children(kb: KnowledgeBase) -> None:
    assert ids(kb.papers_in("method", "vp")) == ["both2023mixed", "fixed2021points", "learn2022pad"]
    assert ids(kb.papers_in("method", "vpt")) == ["both2023mixed", "gen2023tokens", "token2022deep"]


def test_papers_in_unknown_category(kb: KnowledgeBase) -> None:
    with pytest.raises(KeyError):
        kb.papers_in("method", "vpt-magic")


def test_papers_of_kind(kb: KnowledgeBase) -> None:
    assert ids(kb.papers_of_kind("survey")) == ["survey2024field"]
    assert len(kb.papers_of_kind("method")) == 5


def test_papers_by_year(kb: KnowledgeBase) -> None:
    years = kb.papers_by_year()
    assert list(years) == [2021, 2022, 2023, 2024]
    assert ids(years[2022]) == ["learn2022pad", "token2022deep"]


def test_results_for_a_benchmark(kb: KnowledgeBase) -> None:
    rows = kb.results_for("cifar10")
    assert [(p.id, r.value) for p, r in rows] == [("learn2022pad", 80.0), ("token2022deep", 90.0)]
    assert kb.results_for("vtab1k-natural") == ()
    # in taxonomy order, only those with a result
    order = [b.id for b in kb.taxonomy.benchmarks]
    assert kb.benchmarks_with_results() == sorted(["cifar10", "fgvc-mean"], key=order.index)


def test_newest_by_year_then_arxiv_id(kb: KnowledgeBase) -> None:
    assert ids(kb.newest(4)) == ["survey2024field", "both2023mixed", "gen2023tokens", "learn2022pad"]
    assert ids(kb.newest(100))[-3:] == ["learn2022pad", "token2022deep", "fixed2021points"]
    assert kb.newest(0) == ()


def test_find_duplicate(kb: KnowledgeBase) -> None:
    assert kb.find_duplicate(arxiv="2203.00001").id == "token2022deep"
    assert kb.find_duplicate(doi="10.1234/TOKEN.2022").id == "token2022deep"
    assert kb.find_duplicate(title="a survey of visual-prompting!").id == "survey2024field"
    assert kb.find_duplicate(arxiv="2203.99999", doi="10.9999/none", title="Something Else") is None
    assert kb.find_duplicate() is None


@pytest.mark.parametrize(
    ("a", "b"),
    [("Visual Prompt Tuning", "visual prompt-tuning."), ("Café:  Prompts", "cafe prompts"), ("E²VPT", "E2VPT")],
)
def test_normalise_title(a: str, b: str) -> None:
    assert normalise_title(a) == normalise_title(b)


def test_load_knowledge_base_raises_with_every_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("bad2022one", venue="Nowhere"))
    write_paper(root, paper_data("bad2022two", tasks=["nothing"]))
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(root)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert {p.path for p in errors} == {"papers/bad2022one.yaml", "papers/bad2022two.yaml"}
    assert "2 error(s)" in str(info.value)


def test_find_root_walks_up_to_taxonomy(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    nested = root / "papers" / "deeper"
    nested.mkdir()
    assert find_root(nested) == root.resolve()


def test_validate_leaves_the_garbage_collector_as_it_was(tmp_path: Path) -> None:
    """validate() pauses the cyclic collector while it builds (see site_builder.gc_pause), then restores it."""
    root = make_repo(tmp_path)
    assert gc.isenabled()
    validate(root)
    assert gc.isenabled()
    gc.disable()
    try:
        validate(root)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_errata_links_name_papers_of_the_corpus() -> None:
    """docs/errata.md links paper pages by id; each must be a paper of the real knowledge base."""
    import re

    repo = Path(__file__).resolve().parents[2]
    kb = load_knowledge_base(repo)
    linked = set(re.findall(r"\]\(papers/([a-z0-9-]+)/index\.md\)", (repo / "docs" / "errata.md").read_text()))
    assert len(linked) > 20
    assert sorted(linked - {p.id for p in kb.papers}) == []
