"""Cross-entry rules (site_builder.lint) and the pipeline's handling of files and folders (load.validate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.lint import SCHEMA_COMMENT
from site_builder.load import validate
from site_builder.problems import Problem, ProblemList

from .tmp_repo import make_repo, paper_data, write_paper

METHOD_LEAF_MODULES = ("vp_fixed", "vp_learnable", "vp_generated", "vpt_learnable", "vpt_generated")


def problems_in(root: Path) -> list[Problem]:
    _, problems = validate(root)
    return problems


def error_texts(root: Path) -> list[str]:
    return [str(p) for p in problems_in(root) if p.severity == "error"]


def test_valid_repository_has_no_errors(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    kb, problems = validate(root)
    assert kb is not None and [p for p in problems if p.severity == "error"] == []


def test_schema_comment_must_be_the_first_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    path = write_paper(root, paper_data("smith2022comment"))
    path.write_text(path.read_text(encoding="utf-8").replace(SCHEMA_COMMENT + "\n", "# a comment\n"), encoding="utf-8")
    assert error_texts(root) == [f"papers/smith2022comment.yaml:1: (file): the first line must be: {SCHEMA_COMMENT}"]


def test_year_before_arxiv_year(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("smith2020early", year=2020, arxiv="2203.12345"))
    # one year of grace: presented in December, first posted in January
    write_paper(root, paper_data("smith2021grace", year=2021, arxiv="2201.12346"))
    (error,) = error_texts(root)
    assert error.startswith("papers/smith2020early.yaml:6: year: year 2020 is more than a year before the arXiv id")


def test_preprint_year_is_its_arxiv_year(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("smith2023late", year=2023, venue="arXiv", arxiv="2203.12345"))
    write_paper(root, paper_data("smith2023later", year=2024, venue="ECCV", arxiv="2203.12346"))  # fine: venue later
    (error,) = error_texts(root)
    assert error.startswith("papers/smith2023late.yaml:") and "a preprint's year is its arXiv year (2022)" in error


def test_same_result_row_twice(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    row = {"benchmark": "cifar10", "value": 90.0, "method": "M", "backbone": "vit-b16",
           "pretraining": "in21k-supervised", "source": "Table 1"}
    write_paper(root, paper_data("smith2022rows", results=[row, {**row, "value": 91.0, "source": "Table 2"}]))
    (error,) = error_texts(root)
    assert "results[1]: the same benchmark, method, backbone and pretraining as results[0]" in error


def test_facet_ids_of_every_facet_are_checked(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("smith2022facets", method=["vpt-learnabel"], domains=["medicine"],
                                 settings=["fewshot"], trust=["robust"]))
    errors = error_texts(root)
    assert len(errors) == 4
    assert any("method[0]: unknown method category 'vpt-learnabel'; did you mean 'vpt-learnable'?" in e for e in errors)
    assert any("domains[0]: unknown domains category 'medicine'" in e for e in errors)
    assert any("settings[0]: unknown settings category 'fewshot'; did you mean 'few-shot'?" in e for e in errors)
    assert any("trust[0]: unknown trust category 'robust'" in e for e in errors)


def test_parent_categories_are_valid_ids(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("smith2022parent", method=["vp"]))
    assert error_texts(root) == []


def test_duplicates_name_the_first_file_and_each_rule_fires_once(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("aaa2022first", title="Shared Title", arxiv="2203.00001", doi="10.1234/ABC"))
    write_paper(root, paper_data("zzz2022second", title="SHARED title!", arxiv="2203.00001", doi="10.1234/abc"))
    errors = error_texts(root)
    assert len(errors) == 3
    assert all(e.startswith("papers/zzz2022second.yaml:") and "papers/aaa2022first.yaml (id aaa2022first)" in e
               for e in errors)
    assert {e.split(": ")[1] for e in errors} == {"arxiv", "doi", "title"}


def test_title_normalisation_ignores_accents_case_and_punctuation(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("aaa2022accent", title="Prompting Café-Style Models"))
    write_paper(root, paper_data("bbb2022accent", title="prompting cafe style models."))
    write_paper(root, paper_data("ccc2022other", title="Prompting Cafe Style Models 2"))
    errors = error_texts(root)
    assert len(errors) == 1 and errors[0].startswith("papers/bbb2022accent.yaml:")


# --- reference implementations ---------------------------------------------------------------------
def test_reference_impls_missing_package_is_a_warning(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    kb, problems = validate(root)
    warnings = [p for p in problems if p.severity == "warning"]
    assert kb is not None
    assert {p.field for p in warnings} == {f"method.{leaf}.reference_impl" for leaf in
                                           ("vp-fixed", "vp-learnable", "vp-generated", "vpt-learnable", "vpt-generated")}
    assert all(p.path == "taxonomy.yaml" and p.line and "does not exist" in p.message for p in warnings)
    assert all(": warning: " in str(p) for p in warnings)


def test_reference_impls_package_without_module_is_an_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    package = root / "reference_impls"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for module in METHOD_LEAF_MODULES:
        if module != "vpt_generated":
            (package / f"{module}.py").write_text("", encoding="utf-8")
    kb, problems = validate(root)
    assert kb is None
    (error,) = [p for p in problems if p.severity == "error"]
    assert error.path == "taxonomy.yaml" and error.field == "method.vpt-generated.reference_impl"
    assert "reference_impls/vpt_generated.py does not exist" in error.message
    taxonomy_lines = (root / "taxonomy.yaml").read_text(encoding="utf-8").splitlines()
    assert taxonomy_lines[error.line - 1].strip() == "reference_impl: vpt_generated"
    assert not [p for p in problems if p.severity == "warning"]


def test_reference_impls_all_present_is_silent(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "reference_impls").mkdir()
    for module in METHOD_LEAF_MODULES:
        (root / "reference_impls" / f"{module}.py").write_text("", encoding="utf-8")
    assert problems_in(root) == []


def test_method_leaf_without_reference_impl(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    taxonomy = root / "taxonomy.yaml"
    text = taxonomy.read_text(encoding="utf-8")
    assert "            reference_impl: vp_fixed\n" in text
    taxonomy.write_text(text.replace("            reference_impl: vp_fixed\n", ""), encoding="utf-8")
    errors = error_texts(root)
    assert len(errors) == 1
    assert errors[0].startswith("taxonomy.yaml:") and "method.vp-fixed.reference_impl: a method leaf must name" in errors[0]


# --- files and folders -----------------------------------------------------------------------------
def test_broken_taxonomy_is_reported_with_a_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    taxonomy = root / "taxonomy.yaml"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8").replace("kind: journal}", "kind: magazine}", 1),
                        encoding="utf-8")
    kb, problems = validate(root)
    assert kb is None
    (error,) = [p for p in problems if p.severity == "error"]
    assert error.path == "taxonomy.yaml" and error.line and error.field.startswith("venues[")
    assert error.field.endswith(".kind") and "'journal'" in error.message


def test_missing_taxonomy(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "taxonomy.yaml").unlink()
    kb, problems = validate(root)
    assert kb is None
    assert any(p.path == "taxonomy.yaml" and "cannot read" in p.message for p in problems)


def test_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "papers" / "smith2022other.yml").write_text("id: smith2022other\n", encoding="utf-8")
    (root / "papers" / ".hidden.yaml").write_text("not: [yaml\n", encoding="utf-8")  # editors' files: skipped
    assert error_texts(root) == ["papers/smith2022other.yml: (file): paper files end in .yaml: rename it"]


@pytest.mark.parametrize("setup", ["no folder", "empty folder", "only the template"])
def test_an_empty_knowledge_base_is_refused(tmp_path: Path, setup: str) -> None:
    root = make_repo(tmp_path, with_valid_paper=False)
    if setup == "no folder":
        (root / "papers").rmdir()
    elif setup == "only the template":
        (root / "papers" / "EXAMPLE.yaml").write_text("# nothing\n", encoding="utf-8")
    kb, problems = validate(root)
    assert kb is None
    assert any("the knowledge base cannot be empty" in p.message for p in problems)


def test_problems_are_sorted_errors_first_then_by_file_and_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write_paper(root, paper_data("bbb2022order", venue="Nowhere", tasks=["nothing"]))
    write_paper(root, paper_data("aaa2022order", venue="Nowhere"))
    problems = problems_in(root)
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s != "error")
    errors = [(p.path, p.line) for p in problems if p.severity == "error"]
    assert errors == sorted(errors) and len(errors) == 3


def test_problem_list_keeps_errors_and_warnings_apart() -> None:
    problems = ProblemList()
    problems.warning("b.yaml", 3, "f", "w")
    problems.error("b.yaml", 9, "f", "e2")
    problems.error("a.yaml", None, "(file)", "e1")
    assert [str(p) for p in problems.sorted()] == ["a.yaml: (file): e1", "b.yaml:9: f: e2", "b.yaml:3: f: warning: w"]
    assert len(problems.errors) == 2 and len(problems.warnings) == 1 and len(problems) == 3


# --- the protocol vocabulary and `paper:` of result rows ------------------------------------------
@pytest.mark.parametrize(("field", "value", "expected"), [
    ("backbone", "ViT-B/16", "did you mean 'vit-b16'?"),  # a known name
    ("backbone", "transformer (point-mae)", "did you mean 'point-transformer-s'?"),  # an alias, any case
    ("backbone", "vit-b61", "did you mean 'vit-b16'?"),  # a near miss of an id
    ("pretraining", "IN-21k", "did you mean 'in21k-supervised'?"),
    ("pretraining", "MoCo-V3", "did you mean 'moco-v3'?"),
    ("pretraining", "JFT-3B", "add it to `pretrainings` in taxonomy.yaml if it is a new setup"),
])
def test_result_protocol_terms_are_vocabulary_ids(tmp_path: Path, field: str, value: str, expected: str) -> None:
    root = make_repo(tmp_path)
    row = {"benchmark": "cifar10", "value": 90.0, "method": "M", "backbone": "vit-b16",
           "pretraining": "in21k-supervised", "source": "Table 1", field: value}
    write_paper(root, paper_data("smith2022vocab", results=[row]))
    (error,) = error_texts(root)
    assert error.startswith("papers/smith2022vocab.yaml:") and f"results[0].{field}: unknown {field} {value!r}" in error
    assert expected in error


def test_result_paper_must_be_another_entry(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    row = {"benchmark": "cifar10", "value": 90.0, "method": "M", "backbone": "vit-b16",
           "pretraining": "in21k-supervised", "source": "Table 1"}
    write_paper(root, paper_data("smith2022own", results=[{**row, "paper": "smith2022own"}]))
    write_paper(root, paper_data("smith2023other", results=[{**row, "paper": "smith2022valid"},  # exists: fine
                                                           {**row, "method": "N", "paper": "smith2021gone"}]))
    errors = sorted(error_texts(root))
    assert len(errors) == 2
    assert "smith2022own.yaml" in errors[0] and "results[0].paper: names this entry itself" in errors[0]
    assert "smith2023other.yaml" in errors[1] and "results[1].paper: no paper with id 'smith2021gone'" in errors[1]


def test_a_baseline_named_like_another_entry_suggests_its_paper(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    row = {"benchmark": "cifar10", "value": 90.0, "backbone": "vit-b16", "pretraining": "in21k-supervised",
           "source": "Table 1"}
    write_paper(root, paper_data("alpha2022tok", short_name="AlphaTok", results=[{**row, "method": "AlphaTok"}]))
    write_paper(root, paper_data("beta2023tok", short_name="BetaTok",
                                 results=[{**row, "method": "alphatok", "baseline": True},
                                          {**row, "method": "BetaTok"}]))
    problems = problems_in(root)
    assert [p for p in problems if p.severity == "error"] == []
    (warning,) = [str(p) for p in problems if p.severity == "warning" and p.path.startswith("papers/")]
    assert "beta2023tok.yaml" in warning and "add paper: alpha2022tok" in warning


def test_an_entry_sharing_its_short_name_with_another_keeps_its_own_rows(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    row = {"benchmark": "cifar10", "value": 90.0, "backbone": "vit-b16", "pretraining": "in21k-supervised",
           "source": "Table 1"}
    write_paper(root, paper_data("alpha2022tap", short_name="TAP"))
    write_paper(root, paper_data("beta2025tap", short_name="TAP", results=[{**row, "method": "TAP"}]))
    write_paper(root, paper_data("gamma2025other", short_name="Other", results=[{**row, "method": "TAP"}]))
    warnings = [str(p) for p in problems_in(root) if p.severity == "warning" and p.path.startswith("papers/")]
    assert warnings == []  # beta's row is its own; gamma's 'TAP' has two owners, so no guess is made
