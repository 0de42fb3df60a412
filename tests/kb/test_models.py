"""The schema (site_builder.models) and the strict YAML loader (site_builder.yaml_loader)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from site_builder import yaml_loader
from site_builder.load import validate
from site_builder.models import PAPER_FIELDS, SUMMARY_MAX, CodeLink, Paper, Result, Taxonomy, max_year
from site_builder.yaml_loader import YamlLoadError, load_yaml_file, parse_yaml_text

from .tmp_repo import REPO, make_repo, paper_data

EXAMPLE = REPO / "papers" / "EXAMPLE.yaml"


def example_entry_text() -> str:
    """papers/EXAMPLE.yaml with its field lines uncommented: from `# id:` on, every `# ` is dropped."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# id:"))
    body = [line[2:] if line.startswith("# ") else line for line in lines[start:]]
    return "\n".join([lines[0], *body]) + "\n"


def errors_of(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        Paper.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in info.value.errors()]


# --- the template --------------------------------------------------------------------------------
def test_example_uncommented_is_a_valid_entry(tmp_path: Path) -> None:
    root = make_repo(tmp_path, with_valid_paper=False)
    text = example_entry_text()
    data = yaml.safe_load(text)
    (root / "papers" / f"{data['id']}.yaml").write_text(text, encoding="utf-8")
    kb, problems = validate(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    assert kb is not None and len(kb) == 1


def test_example_lists_every_field() -> None:
    data = yaml.safe_load(example_entry_text())
    assert list(data) == list(PAPER_FIELDS), "EXAMPLE.yaml shows every field, in the model's order"
    # `paper` names another entry, so the template shows it as a comment (a lone example cannot point anywhere)
    assert set(data["results"][0]) == set(Result.model_fields) - {"paper"}
    assert "# paper: " in EXAMPLE.read_text(encoding="utf-8")
    assert set(data["code"][0]) == set(CodeLink.model_fields)


def test_example_is_skipped_by_the_loader(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "papers" / "EXAMPLE.yaml").write_text("this: [is not, an entry\n", encoding="utf-8")
    kb, problems = validate(root)
    assert kb is not None
    assert not [p for p in problems if "EXAMPLE" in p.path]


# --- the Paper model -------------------------------------------------------------------------------
def test_minimal_entry_and_defaults() -> None:
    paper = Paper.model_validate(paper_data("smith2022minimal"))
    assert paper.kind == "method"
    assert paper.code == [] and paper.results == [] and paper.tasks == []
    assert paper.primary_url == "https://example.org/smith2022minimal"
    assert paper.display_name == paper.title


def test_models_are_strict_no_coercion() -> None:
    assert errors_of(paper_data("smith2022strict", year="2022"))[0][0] == ("year",)
    assert errors_of(paper_data("smith2022strict", year=2022.0))[0][0] == ("year",)
    assert errors_of(paper_data("smith2022strict", arxiv=2201.1001))[0][0] == ("arxiv",)
    assert errors_of(paper_data("smith2022strict", title=False))[0][0] == ("title",)
    assert errors_of(paper_data("smith2022strict", authors="Ada Smith"))[0][0] == ("authors",)


def test_unknown_keys_are_errors() -> None:
    assert errors_of(paper_data("smith2022extra", abstract="copied"))[0][0] == ("abstract",)
    result = {"benchmark": "cifar10", "value": 1.0, "method": "m", "backbone": "b", "pretraining": "p",
              "source": "Table 1", "note": "x"}
    assert errors_of(paper_data("smith2022extra", results=[result]))[0][0] == ("results", 0, "note")


@pytest.mark.parametrize("bad_id", ["ab", "Smith2022", "1smith", "smith_2022", "a" * 65, "smith 2022"])
def test_id_pattern(bad_id: str) -> None:
    assert ("id",) in [loc for loc, _ in errors_of(paper_data(bad_id))]


@pytest.mark.parametrize("arxiv", ["2203.12119", "1409.1556", "2203.1211", "cs/0101001", "math.GT/0309136"])
def test_arxiv_ids_accepted(arxiv: str) -> None:
    assert Paper.model_validate(paper_data("smith2022arxiv", arxiv=arxiv)).arxiv == arxiv


@pytest.mark.parametrize("arxiv", ["2203.121190", "arXiv:2203.12119", "2203-12119", "https://arxiv.org/abs/2203.12119"])
def test_arxiv_ids_rejected(arxiv: str) -> None:
    assert errors_of(paper_data("smith2022arxiv", arxiv=arxiv))[0][0] == ("arxiv",)


def test_doi_pattern() -> None:
    assert Paper.model_validate(paper_data("smith2022doi", doi="10.1007/978-3-031-19827-4_41")).doi
    assert errors_of(paper_data("smith2022doi", doi="doi:10.1007/x"))[0][0] == ("doi",)


def test_year_bounds() -> None:
    assert Paper.model_validate(paper_data("smith2022year", year=max_year())).year == max_year()
    assert Paper.model_validate(paper_data("smith2022year", year=1950)).year == 1950
    for year in (max_year() + 1, 1949):
        (loc, message), = errors_of(paper_data("smith2022year", year=year))
        assert loc == ("year",) and "next year at the latest" in message


@pytest.mark.parametrize("field", ["title", "short_name", "venue"])
@pytest.mark.parametrize("value", ["Two\nlines", "CR\rinside", " leading", "trailing ", ""])
def test_single_line_fields(field: str, value: str) -> None:
    assert (field,) in [loc for loc, _ in errors_of(paper_data("smith2022line", **{field: value}))]


def test_authors_rules() -> None:
    assert errors_of(paper_data("smith2022auth", authors=[]))[0][0] == ("authors",)
    assert "listed twice" in errors_of(paper_data("smith2022auth", authors=["A B", "A B"]))[0][1]
    assert errors_of(paper_data("smith2022auth", authors=["A B", "C\nD"]))[0][0] == ("authors",)


def test_summary_length_and_spacing() -> None:
    assert errors_of(paper_data("smith2022sum", summary="x" * (SUMMARY_MAX + 1)))[0][0] == ("summary",)
    paper = Paper.model_validate(paper_data("smith2022sum", summary="Folded\nby YAML   with  gaps."))
    assert paper.summary == "Folded by YAML with gaps."
    assert Paper.model_validate(paper_data("smith2022sum", summary="x" * SUMMARY_MAX))


def test_needs_an_identifier() -> None:
    (loc, message), = errors_of(paper_data("smith2022ident", url=None))
    assert loc == () and "at least one of `arxiv`, `doi` or `url`" in message


def test_method_required_for_kind_method_only() -> None:
    ((loc, message),) = errors_of(paper_data("smith2022kind", method=[]))
    assert loc == ("method",) and "required for kind: method" in message
    assert Paper.model_validate(paper_data("smith2022kind", method=[], kind="survey")).kind == "survey"
    assert errors_of(paper_data("smith2022kind", kind="tutorial"))[0][0] == ("kind",)


def test_category_lists_have_no_repeats() -> None:
    assert "twice" in errors_of(paper_data("smith2022rep", tasks=["segmentation", "segmentation"]))[0][1]


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://github.com/a/b", "https://"),
        ("https://arxiv.org/abs/2203.12119", "arXiv"),
        ("https://export.arxiv.org/abs/2203.12119", "arXiv"),
        ("https://example.org/paper.pdf", "PDF"),
        ("https://github.com/a/b c", "spaces"),
        ("github.com/a/b", "https://"),
    ],
)
def test_code_url_rules(url: str, phrase: str) -> None:
    (loc, message), = errors_of(paper_data("smith2022code", code=[{"url": url}]))
    assert loc == ("code", 0, "url") and phrase in message


def test_landing_url_must_be_https() -> None:
    assert errors_of(paper_data("smith2022url", url="http://example.org/x"))[0][0] == ("url",)


def test_result_rules() -> None:
    row = {"benchmark": "cifar10", "value": 12, "method": "m", "backbone": "b", "pretraining": "p", "source": "Table 1"}
    assert Result.model_validate(row).value == 12.0  # an integer is a number
    for bad in ({"value": float("nan")}, {"value": float("inf")}, {"value": "12.3"}, {"source": ""},
                {"method": "two\nlines"}):
        with pytest.raises(ValidationError):
            Result.model_validate({**row, **bad})


def test_models_are_frozen() -> None:
    paper = Paper.model_validate(paper_data("smith2022frozen"))
    with pytest.raises(ValidationError):
        paper.title = "Changed"  # type: ignore[misc]


def test_links_and_official_code() -> None:
    paper = Paper.model_validate(paper_data(
        "smith2022links", url=None, arxiv="2203.12119", doi="10.1234/x",
        code=[{"url": "https://github.com/a/fork"}, {"url": "https://github.com/a/b", "official": True}],
    ))
    assert paper.primary_url == "https://arxiv.org/abs/2203.12119"
    assert paper.links == {"arXiv": "https://arxiv.org/abs/2203.12119", "DOI": "https://doi.org/10.1234/x"}
    assert paper.official_code is not None and paper.official_code.url == "https://github.com/a/b"


# --- the strict YAML loader ------------------------------------------------------------------------
@pytest.fixture(params=["C", "pure-Python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a loader test with libyaml's parser and with PyYAML's own (they differ in small ways)."""
    if request.param == "pure-Python":
        monkeypatch.setattr(yaml_loader, "_Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    return request.param


def test_lines_of_nested_fields(loader: str) -> None:
    doc = parse_yaml_text("# c\nid: x\nauthors:\n  - A B\n  - C D\nresults:\n  - benchmark: b\n    value: 1\n", "p")
    assert doc.lines[("id",)] == 2
    assert doc.lines[("authors", 1)] == 5
    assert doc.lines[("results", 0, "value")] == 8
    assert doc.line_of(("results", 0, "missing")) == 7
    assert doc.line_of(("nothing",)) == 2


def test_plain_scalars_of_other_types_are_remembered(loader: str) -> None:
    doc = parse_yaml_text('arxiv: 2201.10010\nshort_name: no\nyear: 2022\ntitle: "yes"\nkind: method\n', "p")
    assert doc.data["arxiv"] == 2201.1001 and doc.data["short_name"] is False
    assert doc.plain_text[("arxiv",)] == ("float", "2201.10010")
    assert doc.plain_text[("short_name",)] == ("bool", "no")
    assert doc.plain_text[("year",)] == ("int", "2022")
    assert ("title",) not in doc.plain_text and ("kind",) not in doc.plain_text


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "YAML syntax error"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first given on line 1)"),
        ("x:\n  - a: 1\n    'a': 2\n", 3, "duplicate key 'a' (first given on line 2)"),
        ("a: &x 1\nb: *x\n", 1, "anchors and aliases"),
        ("a: &x 1\n", 1, "anchors and aliases"),
        ("a:\n  <<: {b: 1}\n", 2, "merge keys"),
        ("? [a, b]\n: 1\n", 1, "complex keys"),
        ("a: 1\n1: b\n", 2, "not a field name"),
        ("a: 1\n~: b\n", 2, "not a field name"),
        ("a: 2024-13-45\n", 1, "not a valid timestamp"),
        ("a: !!int abc\n", 1, "not a valid int"),
        ("a: !!float abc\n", 1, "not a valid float"),
        ("a: !!python/name:os.system x\n", 1, "unsupported tag"),
        ("a: !!set {x}\n", 1, "unsupported tag"),
        ("a: 1\n---\nb: 2\n", 2, "YAML syntax error"),
        ("a: 1\nb: c\x07d\n", 2, "U+0007 is not allowed"),
        ("a: 1\n\x1bb: 2\n", 2, "U+001B is not allowed"),
    ],
)
def test_loader_refuses(loader: str, text: str, line: int, phrase: str) -> None:
    with pytest.raises(YamlLoadError) as info:
        parse_yaml_text(text, "p")
    assert info.value.line == line
    assert phrase in info.value.message
    assert "\n" not in info.value.message


def test_positions_are_worked_out_only_when_asked(loader: str) -> None:
    doc = parse_yaml_text("id: x\nyear: 2022\n", "p")
    assert doc._lines is None, "positions cost time on every file; they serve messages only"
    assert doc.line_of(("year",)) == 2 and doc.plain_text == {("year",): ("int", "2022")}
    assert parse_yaml_text("# only a comment\n", "p").line_of(("id",)) == 1


def test_anchor_lookalikes_in_text_are_fine(loader: str) -> None:
    doc = parse_yaml_text("title: 'R&D *and* more'\nsummary: Cost & benefit, *emphasis* and a*b.\n", "p")
    assert doc.data == {"title": "R&D *and* more", "summary": "Cost & benefit, *emphasis* and a*b."}


def test_file_checks(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes("\ufeffa: é\n".encode())
    assert load_yaml_file(path).data == {"a": "é"}  # a byte-order mark is tolerated
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlLoadError, match=re.escape("not valid UTF-8 (byte 0xe9)")) as info:
        load_yaml_file(path)
    assert info.value.line == 2
    path.write_bytes(b"a: 1\n" + b"#" * yaml_loader.MAX_FILE_BYTES)
    with pytest.raises(YamlLoadError, match="the limit is") as info:
        load_yaml_file(path)
    assert info.value.line == 1
    path.write_bytes(b"a: 1\n" + b"#" * (yaml_loader.MAX_FILE_BYTES - 6) + b"\n")
    assert load_yaml_file(path).data == {"a": 1}  # exactly at the limit is fine


def _taxonomy_data() -> dict:
    return yaml.safe_load((Path(__file__).resolve().parents[2] / "taxonomy.yaml").read_text(encoding="utf-8"))


def test_taxonomy_protocol_spellings_name_one_term_each() -> None:
    data = _taxonomy_data()
    data["pretrainings"][1]["aliases"].append("ImageNet-21k")  # already an alias of in21k-supervised
    with pytest.raises(ValidationError, match="pretraining spellings shared by two ids"):
        Taxonomy.model_validate(data)


def test_taxonomy_reserves_the_discrepancies_page() -> None:
    data = _taxonomy_data()
    data["benchmarks"][0]["id"] = "discrepancies"
    with pytest.raises(ValidationError, match="reserved"):
        Taxonomy.model_validate(data)
