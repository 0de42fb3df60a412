"""``compare-list``: reading other awesome lists (Markdown, HTML) and comparing them with the papers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.contribute import commands
from site_builder.contribute.awesome_list import parse_list, read_list
from site_builder.contribute.compare_list import PaperIndex, abridges, compare_list, title_matches
from site_builder.contribute.repository import Repository

from .conftest import FIXTURES, FakeServer

Run = Callable[..., tuple[int, str, str]]
LISTS = FIXTURES / "lists"


def _rows(out: str) -> dict[int, str]:
    """Report lines by the list line they name (``  MISSING  :20  ...``)."""
    rows = {}
    for text in out.splitlines():
        parts = text.split()
        if len(parts) > 2 and parts[1].startswith(":") and parts[1][1:].isdigit():
            rows[int(parts[1][1:])] = text
    return rows


def test_markdown_sections_bullets_tables_and_links() -> None:
    awesome = read_list(LISTS / "nested.md")
    by_line = {e.line: e for e in awesome.entries}
    # Contents (anchors only) and News are skipped; the list's own title is not a section
    assert awesome.sections == ("Prompting / Token prompts", "Prompting / Token prompts / Pixel prompts", "Related")
    assert sorted(by_line) == [18, 19, 20, 21, 27, 28, 29, 35, 36, 38]
    assert by_line[18].arxiv == "2203.12119" and by_line[18].title == "Visual Prompt Tuning"  # /abs/ with v2
    assert by_line[19].arxiv == "2307.13770"  # /pdf/...v1.pdf
    assert by_line[20].arxiv == "2401.00001" and by_line[20].title.startswith("Deep Prompts")  # nested bullet
    assert by_line[21].arxiv is None and by_line[21].title == "A Paper Without Any Link At All"  # bold, no link
    assert by_line[27].title == "Exploring Visual Prompts for Adapting Large Scale Models"  # the Title column
    assert by_line[29].title == "Another Table Row Without a Link" and by_line[29].arxiv is None
    assert by_line[35].title == "VPT"  # the Method column when the Paper column only says "Link"
    assert by_line[36].doi == "10.1109/ICCV51070.2023.01604"


def test_html_lists_and_tables() -> None:
    awesome = read_list(LISTS / "page.html")
    assert awesome.sections == ("Methods", "Surveys")
    titles = {e.line: (e.title, e.arxiv) for e in awesome.entries}
    assert titles == {
        8: ("Visual Prompt Tuning", "2203.12119"),
        9: ("Exploring Visual Prompts for Adapting Large-Scale Models", "2203.17274"),  # arXiv:ID in the text
        10: ("Yet Another Missing Prompting Paper", "2402.00002"),  # text before a "pdf" link
        15: ("A Survey of Prompting That We Do Not Have", None),
    }


def test_report_have_missing_wrong_and_totals(repo: Path, run: Run) -> None:
    status, out, err = run("compare-list", str(LISTS / "nested.md"), "--root", str(repo))
    assert status == 0, err
    rows = _rows(out)
    assert rows[18].split()[0] == "have" and "= papers/jia2022visual.yaml" in rows[18]
    assert "= papers/han2023e2vpt.yaml" in rows[19] and "= papers/han2023e2vpt.yaml" in rows[36]  # arXiv; DOI
    assert rows[20].lstrip().startswith("MISSING") and "2401.00001" in rows[20]
    assert rows[21].lstrip().startswith("MISSING")
    # an arXiv id whose title in the list is not the title of the paper holding that id
    assert rows[28].lstrip().startswith("WRONG") and "which is papers/jia2022visual.yaml" in rows[28]
    # a row whose title names one paper (VPT) but links another's id
    assert rows[35].lstrip().startswith("WRONG") and "papers/bahng2022exploring.yaml" in rows[35] \
        and "that of papers/jia2022visual.yaml" in rows[35]
    assert rows[38].lstrip().startswith("have")  # the same paper again: listed, counted once
    assert "## Prompting / Token prompts  (2 have, 2 MISSING)" in out
    assert "10 paper rows, 7 distinct papers (3 repeated rows)" in out
    assert "of 7 in scope: 3 in the knowledge base, 4 not; 2 rows with a wrong link" in out
    assert "recall: 3/7 = 42.9%" in out


def test_missing_only_and_exclusions(repo: Path, run: Run) -> None:
    status, out, _ = run("compare-list", str(LISTS / "nested.md"), "--missing-only", "--exclude",
                         str(LISTS / "exclude.txt"), "--root", str(repo))
    assert status == 0
    rows = _rows(out)
    assert sorted(rows) == [21]  # 20 and 29 are out of scope; the others are in the knowledge base or wrong
    assert "2 excluded as out of scope; of 5 in scope: 3 in the knowledge base, 2 not" in out
    assert "recall: 3/5 = 60.0%" in out
    assert "note: exclude line 4 (9999.99999) matched no row" in out


def test_json(repo: Path, run: Run) -> None:
    status, out, _ = run("compare-list", str(LISTS / "page.html"), "--json", "--root", str(repo))
    data = json.loads(out)
    assert status == 0 and [s["name"] for s in data["sections"]] == ["Methods", "Surveys"]
    assert data["totals"]["in_kb"] == 2 and data["totals"]["in_scope"] == 4 and data["totals"]["recall"] == 0.5
    assert data["missing_arxiv_ids"] == ["2402.00002"]
    first = data["sections"][0]["rows"][0]
    assert first == {"line": 8, "status": "have", "title": "Visual Prompt Tuning", "arxiv": "2203.12119", "doi": None,
                     "paper": "papers/jia2022visual.yaml", "note": ""}


def test_never_touches_the_network(repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compare-list made an HTTP client")

    monkeypatch.setattr(commands, "HttpClient", refuse)
    assert run("compare-list", str(LISTS / "nested.md"), "--root", str(repo))[0] == 0


def test_scaffold_hands_missing_ids_to_new(repo: Path, env: Path, server: FakeServer, run: Run, tmp_path: Path) -> None:
    (repo / "papers" / "jia2022visual.yaml").unlink()
    listing = tmp_path / "list.md"
    listing.write_text("## Papers\n\n- [Visual Prompt Tuning](https://arxiv.org/abs/2203.12119)\n"
                       "- [A Paper arXiv Does Not Know](https://arxiv.org/abs/2401.00001)\n", encoding="utf-8")
    status, out, err = run("compare-list", str(listing), "--scaffold", "--root", str(repo))
    assert status == 1  # one id could not be scaffolded
    assert "scaffold 2203.12119: wrote papers/jia2022visual.yaml" in err
    assert "scaffold 2401.00001: error: arXiv has no paper 2401.00001" in err
    assert "1 of 2 missing arXiv ids scaffolded" in err
    assert (repo / "papers" / "jia2022visual.yaml").is_file()


def test_unreadable_list_and_bad_usage(repo: Path, run: Run, tmp_path: Path) -> None:
    status, _, err = run("compare-list", str(tmp_path / "nope.md"), "--root", str(repo))
    assert status == 1 and err.startswith("error: cannot read") and err.count("\n") == 1
    binary = tmp_path / "list.md"
    binary.write_bytes(b"\xff\xfe\x00bad")
    status, _, err = run("compare-list", str(binary), "--root", str(repo))
    assert status == 1 and "is not UTF-8" in err
    with pytest.raises(SystemExit) as info:
        commands.main(["compare-list"])
    assert info.value.code == 2


@pytest.mark.parametrize(("title", "expected"), [
    ("Visual Prompt Tuning", "jia2022visual"),
    ("visual prompt-tuning.", "jia2022visual"),  # case and punctuation
    ("VPT: Visual Prompt Tuning", "jia2022visual"),  # a name prefix
    ("VPT", "jia2022visual"),  # the short name
    ("E2VPT: An Effective and Efficient Approach for Visual Prompt Tuning", "han2023e2vpt"),  # LaTeX in ours
    ("An Effective and Efficent Approach for Visual Prompt Tuning", "han2023e2vpt"),  # a typo, no prefix
    ("Exploring Visual Prompts for Adapting Large-Scale Models", "bahng2022exploring"),
    ("Exploring Visual Prompts for Adapting", "bahng2022exploring"),  # truncated, five words or more
    ("Visual Prompt Tuning for Test-Time Domain Adaptation", None),  # longer, another paper
    ("Exploring Visual Prompts", None),  # three words: only names match
    ("Prompt", None),
])
def test_title_matching(repo: Path, title: str, expected: str | None) -> None:
    index = PaperIndex(Repository.scan(repo).papers)
    found = index.by_title(title)
    assert (found.file.stem if found else None) == expected


def test_a_title_without_its_name_prefix_matches_one_with_it(repo: Path) -> None:
    (paper,) = [p for p in PaperIndex(Repository.scan(repo).papers).papers if p.file.stem == "han2023e2vpt"]
    assert title_matches("An Effective and Efficient Approach for Visual Prompt Tuning", paper)
    assert not title_matches("An Efficient Approach for Language Prompt Learning", paper)


def test_compare_list_counts_a_paper_listed_twice_once(repo: Path) -> None:
    text = ("## A\n\n- [Visual Prompt Tuning](https://arxiv.org/abs/2203.12119)\n\n## B\n\n"
            "- [Visual Prompt Tuning](https://arxiv.org/pdf/2203.12119v3.pdf)\n- **Some Missing Paper Title Here**\n"
            "- **Some missing paper title here.**\n"
            "- [Another Missing Paper With an Id](https://arxiv.org/abs/2405.00001)\n"
            "- **Another missing paper with an id**, the same one, linked nowhere this time\n")
    comparison = compare_list(parse_list(text, html=False), Repository.scan(repo))
    totals = comparison.totals()
    assert totals["rows"] == 6 and totals["distinct"] == 3 and totals["in_kb"] == 1
    assert totals["not_in_kb"] == 2 and totals["recall"] == round(1 / 3, 4)


@pytest.mark.parametrize(("title", "expected"), [
    ("Prompt Engineering on Vision-Language Models", True),
    ("Visual Prompting in MLLMs", True),  # an acronym for consecutive words
    ("Visual Prompting in LLMs", True),
    ("Visual Prompting in VLMs", False),
    ("Prompting Visual in Multimodal", False),  # the order matters
])
def test_abridged_titles(title: str, expected: bool) -> None:
    whole = "visual prompting in multimodal large language models a survey"
    if "Engineering" in title:
        whole = "a systematic survey of prompt engineering on vision language foundation models"
    assert abridges(title, whole) is expected


def test_a_descriptive_table_names_topics_not_papers() -> None:
    text = ("# List\n\n## Settings\n\n| Paradigm | Description |\n|---|---|\n"
            "| **Test-Time Adaptation** | On-the-fly prompt tuning of a frozen model |\n"
            "| **Black-Box Prompt Learning** | Zeroth-order prompt search [paper](https://arxiv.org/abs/2303.14773) |\n\n"
            "## Papers\n\n| Title | Venue |\n|---|---|\n| Prompt Tokens For Frozen Transformers | CVPR |\n")
    entries = parse_list(text, html=False).entries
    assert [(e.title, e.arxiv) for e in entries] == [
        ("", "2303.14773"),  # a row that links a paper still counts (its link text names no title)
        ("Prompt Tokens For Frozen Transformers", None),  # a title column without a link counts too
    ]


def test_a_contents_entry_that_repeats_a_heading_is_no_paper() -> None:
    text = ("# List\n\n- **2. Generative Visual Prompts**\n- **Grey/Black-Box Prompt Tuning Methods**\n\n"
            "## 2. Generative Visual Prompts\n\n- **Prompt Generators For Frozen Backbones**, CVPR 2024\n\n"
            "## Grey/Black-Box Prompt Tuning Methods\n\n- **Zeroth Order Prompt Search**, ICCV 2023\n")
    titles = [e.title for e in parse_list(text, html=False).entries]
    assert titles == ["Prompt Generators For Frozen Backbones", "Zeroth Order Prompt Search"]


def test_a_short_name_linking_an_unknown_id_is_a_probable_wrong_link(repo: Path, run: Run, tmp_path: Path) -> None:
    listing = tmp_path / "names.md"
    listing.write_text("# L\n\n## VPT\n\n| Method | Paper |\n|---|---|\n"
                       "| E2VPT | [Link](https://arxiv.org/abs/2312.99999) |\n", encoding="utf-8")
    status, out, err = run("compare-list", str(listing), "--root", str(repo))
    assert status == 0, err
    row = _rows(out)[7]
    assert row.lstrip().startswith("WRONG") and "papers/han2023e2vpt.yaml" in row and "probably a wrong link" in row
    assert "recall: 1/1 = 100.0%" in out  # the paper is here, under its right id
