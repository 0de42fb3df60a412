"""The generated outputs: README.md, papers.bib, papers.json and the JSON Schema.

Deterministic, checked for freshness by ``build --check``, readable by the tools that consume them,
and written all-or-nothing.
"""

from __future__ import annotations

import gc
import json
import os
import stat
from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from site_builder import export
from site_builder.atomic import write_files_atomically
from site_builder.export.bibtex import ENTRY_TYPES
from site_builder.export.latex import latex_unescape, parse_author_field
from site_builder.export.markdown import md_link, split_row
from site_builder.knowledge_base import KnowledgeBase
from site_builder.load import load_knowledge_base
from site_builder.models import FACETS, Benchmark, Category, CodeLink, Facet, Paper, Result, Taxonomy, Venue

from .tmp_repo import (
    OUTPUT_NAMES,
    make_repo,
    paper_data,
    read_outputs,
    run_cli,
    run_subprocess,
    stray_files,
    write_paper,
    write_sentinels,
)

RESULT = {"benchmark": "vtab1k-natural", "value": 78.5, "method": "Deep", "backbone": "vit-b16",
          "pretraining": "in21k-supervised", "source": "Table 1"}
# One paper per kind of venue, with the fields each BibTeX entry type needs; the valid entry is a CVPR paper.
PAPERS = [
    paper_data("jones2023workshop", venue="CVPRW", year=2023, title="Prompts at a Workshop: 100% Frozen & Fast",
               authors=["Bob Jones", "Ana María Ñúñez"], url=None, arxiv="2304.00001"),
    paper_data("lee2024journal", venue="TPAMI", year=2024, title="Prompt_Tuning in {Journals}",
               authors=["Chen Lee"], url=None, doi="10.1109/TPAMI.2024.0000001", tasks=["segmentation"]),
    paper_data("kim2024preprint", venue="arXiv", year=2024, title="A Preprint on $\\alpha$-Prompts #1",
               authors=["Kim Park", "Tom and Jerry"], url=None, arxiv="2405.00001", results=[RESULT]),
    paper_data("ng2022landing", venue="ICLR", year=2022, title="Landing Page Only", domains=["medical"],
               code=[{"url": "https://github.com/ng/landing", "official": True}]),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    for data in PAPERS:
        write_paper(root, data)
    return root


@pytest.fixture
def kb(repo: Path) -> KnowledgeBase:
    return load_knowledge_base(repo)


def build(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> Any:
    return run_cli(capsys, root, "build", "--no-site", *extra)


# --- determinism and freshness ---------------------------------------------------------------------
def test_build_writes_every_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = build(capsys, repo)
    assert run.code == 0, run.err
    assert run.out.strip() == f"wrote {', '.join(sorted(OUTPUT_NAMES))}"
    assert all(content for content in read_outputs(repo).values())
    assert list(export.OUTPUTS) == [*OUTPUT_NAMES, "CONTRIBUTING.md"]  # that one only where the file exists


def test_two_builds_are_byte_identical(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert build(capsys, repo).code == 0
    first = read_outputs(repo)
    # again in the same folder: nothing to write
    run = build(capsys, repo)
    assert run.code == 0 and run.out.strip() == "outputs already up to date"
    assert read_outputs(repo) == first
    # in another folder, by another interpreter with another hash seed, papers written in reverse order
    other = make_repo(tmp_path / "other", with_valid_paper=False)
    for path in sorted((repo / "papers").glob("*.yaml"), reverse=True):
        (other / "papers" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("PYTHONHASHSEED", "12345")
    run = run_subprocess("--root", str(other), "build", "--no-site")
    assert run.code == 0, run.err
    assert read_outputs(other) == first


def test_check_passes_after_build_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build(capsys, repo).code == 0
    before = read_outputs(repo)
    run = build(capsys, repo, "--check")
    assert run.code == 0 and "up to date" in run.out
    assert read_outputs(repo) == before


def test_check_fails_when_a_paper_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build(capsys, repo).code == 0
    before = read_outputs(repo)
    path = repo / "papers" / "lee2024journal.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("in {Journals}", "in {Transactions}"), encoding="utf-8")
    run = build(capsys, repo, "--check")
    assert run.code == 1
    for name in ("README.md", "papers.bib", "papers.json"):
        assert f"{name}: differs from what the data generates" in run.err
    assert "schema/paper.schema.json: differs" not in run.err
    assert "Transactions" in run.err  # the diff shows the change
    assert "python -m site_builder build" in run.err
    assert read_outputs(repo) == before, "--check never writes"


def test_check_fails_when_an_output_is_missing_or_edited(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build(capsys, repo).code == 0
    (repo / "schema" / "paper.schema.json").unlink()
    with (repo / "README.md").open("a", encoding="utf-8") as handle:
        handle.write("a hand edit\n")
    run = build(capsys, repo, "--check")
    assert run.code == 1
    assert "schema/paper.schema.json: differs from what the data generates\n(missing)" in run.err
    assert "README.md: differs" in run.err and "+a hand edit" not in run.err and "-a hand edit" in run.err
    assert "papers.bib" not in run.err


def test_check_fails_on_invalid_data(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_paper(repo, paper_data("bad2022venue", venue="Nowhere"))
    run = build(capsys, repo, "--check")
    assert run.code == 1 and "papers/bad2022venue.yaml:" in run.err


# --- BibTeX ----------------------------------------------------------------------------------------
def parse_bib(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    return library


def test_bibtex_reads_back(kb: KnowledgeBase) -> None:
    library = parse_bib(export.render_bibtex(kb))
    entries = {e.key: e for e in library.entries}
    assert list(entries) == [p.id for p in kb.papers]
    for paper in kb.papers:
        entry = entries[paper.id]
        venue = kb.taxonomy.venue(paper.venue)
        assert entry.entry_type == ENTRY_TYPES[venue.kind]
        fields = entry.fields_dict
        assert latex_unescape(fields["title"].value) == paper.title
        assert parse_author_field(fields["author"].value) == paper.authors
        assert fields["year"].value == str(paper.year)
        assert fields["url"].value == paper.primary_url
        expected = {"title", "author", "year", "url"}
        if entry.entry_type == "inproceedings":
            expected.add("booktitle")
            assert latex_unescape(fields["booktitle"].value) == venue.name
        if entry.entry_type == "article":
            expected.add("journal")
            assert latex_unescape(fields["journal"].value) == venue.name
        if paper.arxiv:
            expected |= {"eprint", "archiveprefix"}
            assert fields["eprint"].value == paper.arxiv and fields["archiveprefix"].value == "arXiv"
        if paper.doi:
            expected.add("doi")
            assert latex_unescape(fields["doi"].value) == paper.doi
        assert set(fields) == expected


def test_bibtex_entry_types_by_venue_kind(kb: KnowledgeBase) -> None:
    types = {e.key: e.entry_type for e in parse_bib(export.render_bibtex(kb)).entries}
    assert types == {"smith2022valid": "inproceedings", "jones2023workshop": "inproceedings",
                     "ng2022landing": "inproceedings", "lee2024journal": "article", "kim2024preprint": "misc"}


def test_bibtex_header_says_generated(kb: KnowledgeBase) -> None:
    assert export.render_bibtex(kb).startswith("% Awesome Prompt-Based Adaptation: generated from papers/*.yaml")


# --- JSON and the schema ---------------------------------------------------------------------------
def test_json_round_trips_into_models(kb: KnowledgeBase) -> None:
    data = json.loads(export.render_json(kb))
    assert data["format_version"] == 1
    assert [Paper.model_validate(p) for p in data["papers"]] == list(kb.papers)
    assert Taxonomy.model_validate(data["taxonomy"]) == kb.taxonomy


def test_json_keeps_non_ascii_as_text(kb: KnowledgeBase) -> None:
    assert "Ana María Ñúñez" in export.render_json(kb)


def standard_json(kb: KnowledgeBase) -> str:
    """papers.json as the standard library writes it (what the faster encoder must reproduce)."""
    return json.dumps(json.loads(export.render_json(kb)), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("value", [78.5, 0.0, 100.0, 12.0, 0.0001, 1e-05, 1e16, 123456789.125])
def test_json_is_written_exactly_as_json_dumps_would(repo: Path, value: float) -> None:
    """A result value near the edges of the fast encoder's range takes the standard library's path."""
    write_paper(repo, paper_data("zed2022values", results=[{**RESULT, "value": value}]))
    kb = load_knowledge_base(repo)
    text = export.render_json(kb)
    assert text == standard_json(kb)
    assert json.loads(text)["papers"][-1]["results"][0]["value"] == value


def test_json_floats_are_only_result_values() -> None:
    """render_json checks only result values before using the fast encoder: no other float may exist."""

    def floats(model: type) -> list[str]:
        found = []
        for name, info in model.model_fields.items():
            text = str(info.annotation)
            if "float" in text:
                found.append(f"{model.__name__}.{name}")
        return found

    models = [Paper, Result, CodeLink, Taxonomy, Facet, Category, Venue, Benchmark]
    assert [f for m in models for f in floats(m)] == ["Result.value"]


def test_schema_structure(kb: KnowledgeBase) -> None:
    schema = json.loads(export.render_schema(kb))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"id", "title", "authors", "year", "venue", "summary"}
    props = schema["properties"]
    assert set(props) == set(Paper.model_fields)
    assert props["venue"]["enum"] == [v.id for v in kb.taxonomy.venues]
    for facet in FACETS:
        assert props[facet]["items"]["enum"] == kb.taxonomy.all_ids(facet)
    result = schema["$defs"]["Result"]
    assert result["additionalProperties"] is False and "source" in result["required"]
    assert result["properties"]["benchmark"]["enum"] == [b.id for b in kb.taxonomy.benchmarks]
    assert props["id"]["pattern"] and props["arxiv"]["anyOf"][0]["pattern"]


def test_schema_accepts_every_paper_by_structure(kb: KnowledgeBase) -> None:
    """Without a JSON Schema library: keys, required fields and enums of the real files' data."""
    schema = json.loads(export.render_schema(kb))
    props = schema["properties"]
    for paper in kb.papers:
        data = paper.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        assert set(schema["required"]) <= set(data) <= set(props)
        assert data["venue"] in props["venue"]["enum"]
        for facet in FACETS:
            assert set(data.get(facet, [])) <= set(props[facet]["items"]["enum"])
        for row in data.get("results", []):
            assert row["benchmark"] in schema["$defs"]["Result"]["properties"]["benchmark"]["enum"]


def test_schema_validates_real_papers_with_jsonschema(kb: KnowledgeBase) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (structure is checked above)")
    schema = json.loads(export.render_schema(kb))
    validator = jsonschema.Draft202012Validator(schema)
    for paper in kb.papers:
        validator.validate(paper.model_dump(mode="json", exclude_defaults=True, exclude_none=True))
    assert list(validator.iter_errors({"id": "x", "title": 1})) != []


# --- README ----------------------------------------------------------------------------------------
def _table_rows(readme: str) -> list[str]:
    return [line for line in readme.splitlines() if line.startswith("| ") and not line.startswith("| Title")]


def test_readme_rows_have_six_cells_and_every_paper(kb: KnowledgeBase) -> None:
    rows = _table_rows(export.render_readme(kb))
    assert rows and all(len(split_row(row)) == 6 for row in rows)
    for paper in kb.papers:
        assert any(row.startswith(f"| {md_link(paper.title, paper.primary_url)} | ") for row in rows), paper.id
    valid = kb.paper("smith2022valid")
    row = next(row for row in rows if row.startswith(f"| {md_link(valid.title, valid.primary_url)} | "))
    assert split_row(row)[3] == "visual"


def test_vision_only_view_leaves_out_text_encoder_only_papers(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("text2022ctx", modality=["textual"], title="Context Vectors for Text Prompts"))
    write_paper(root, paper_data("both2023two", modality=["visual", "textual"], title="Prompts on Both Sides"))
    kb = load_knowledge_base(root)
    full, view = export.render_readme(kb), export.render_readme(kb, vision_only=True)
    assert "Context Vectors for Text Prompts" in full and "Context Vectors for Text Prompts" not in view
    assert "Prompts on Both Sides" in view  # a prompt that also acts on the image stays
    assert "without the 1 paper whose" in view and "(vision-only view)" in view.splitlines()[0]
    assert any(split_row(r)[3] == "visual + textual" for r in _table_rows(view))


# --- atomic writing --------------------------------------------------------------------------------
def test_a_failing_renderer_leaves_outputs_unchanged(repo: Path, kb: KnowledgeBase,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = write_sentinels(repo)

    def broken(_: KnowledgeBase) -> str:
        raise RuntimeError("renderer failed")

    monkeypatch.setitem(export.OUTPUTS, "papers.json", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        export.write_outputs(kb, repo)
    assert read_outputs(repo) == before
    assert gc.isenabled(), "rendering pauses the garbage collector and must restore it on failure too"
    assert stray_files(repo) == []


def test_a_failing_write_leaves_outputs_unchanged(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    first.write_text("old a\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_files_atomically({first: "new a\n", second: "cannot encode \udc80\n"})
    assert first.read_text(encoding="utf-8") == "old a\n"
    assert not second.exists()
    assert stray_files(tmp_path) == []


def test_atomic_write_modes(tmp_path: Path) -> None:
    kept, new = tmp_path / "kept.txt", tmp_path / "new.txt"
    kept.write_text("old\n", encoding="utf-8")
    os.chmod(kept, 0o600)
    write_files_atomically({kept: "fresh\n", new: "línea\n"})
    assert kept.read_text(encoding="utf-8") == "fresh\n" and new.read_bytes() == "línea\n".encode()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    assert stray_files(tmp_path) == []
