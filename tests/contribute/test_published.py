"""``verify --published [--fix]``: the published version of a preprint, found on Crossref (the local
server plays it) and written into the file without disturbing the rest of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from site_builder.contribute import paper_edit
from site_builder.contribute.paper_edit import edit_fields
from site_builder.load import validate
from site_builder.yaml_loader import parse_yaml_text

from .conftest import FIXTURES, FakeServer, Reply

Run = Callable[..., tuple[int, str, str]]
SEARCH = "/crossref/works"
ICCV = "2023 IEEE/CVF International Conference on Computer Vision (ICCV)"


def _as_preprint(repo: Path) -> Path:
    """han2023e2vpt as it was before ICCV: a preprint, no DOI, one author missing, a comment on the venue."""
    path = repo / "papers" / "han2023e2vpt.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in (("venue: ICCV\n", "venue: arXiv  # a preprint for now\n"), ('arxiv: "2307.13770"\n', ""),
                     ("doi: 10.1109/ICCV51070.2023.01604\n", ""), ("  - Dongfang Liu\n", "")):
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    for name in ("jia2022visual.yaml", "bahng2022exploring.yaml"):
        (repo / "papers" / name).unlink()
    return path


def _line_of(path: Path, key: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(key))


def test_a_published_preprint_is_reported_at_its_venue_line(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    path = _as_preprint(repo)
    server.add(SEARCH, Reply(200, (FIXTURES / "crossref" / "search_e2vpt.json").read_bytes()))
    before = path.read_bytes()
    status, out, err = run("verify", "--published", "--root", str(repo))
    assert status == 1
    assert (f"papers/han2023e2vpt.yaml:{_line_of(path, 'venue:')}: venue: published as {ICCV} 2023 "
            "(DOI 10.1109/ICCV51070.2023.01604); the authors changed (6 -> 7: Cheng Han, Qifan Wang, Yiming Cui, "
            "Zhiwen Cao, Wenguan Wang, Siyuan Qi, Dongfang Liu)") in out
    assert "run `verify --published --fix`" in out and "1 preprints searched on Crossref (0 fixed)" in err
    assert path.read_bytes() == before  # without --fix nothing is written
    (_, target, headers), = server.requests_to(SEARCH)
    query = parse_qs(urlsplit(target).query)
    assert query["query.bibliographic"] == ["E^2VPT: An Effective and Efficient Approach for Visual Prompt Tuning"]
    assert query["query.author"] == ["Han"] and query["mailto"] == ["tests@example.org"]


def test_fix_writes_venue_year_doi_and_authors_and_keeps_the_rest(repo: Path, env: Path, server: FakeServer,
                                                                 run: Run) -> None:
    path = _as_preprint(repo)
    server.add(SEARCH, Reply(200, (FIXTURES / "crossref" / "search_e2vpt.json").read_bytes()))
    before = path.read_text(encoding="utf-8")
    status, out, err = run("verify", "--published", "--fix", "--root", str(repo))
    assert status == 0, out + err
    assert "fixed papers/han2023e2vpt.yaml: published as" in out and "wrote venue, year, doi, authors" in out
    after = path.read_text(encoding="utf-8")
    expected = before.replace("venue: arXiv  # a preprint for now\n",
                              "venue: ICCV  # a preprint for now\ndoi: 10.1109/ICCV51070.2023.01604\n")
    expected = expected.replace("  - Siyuan Qi\n", "  - Siyuan Qi\n  - Dongfang Liu\n")
    assert after == expected  # every other byte (comments, folded summary, order) as it was
    _, problems = validate(repo)
    assert not [p for p in problems if p.severity == "error"]
    # a second run finds nothing left to do: the paper is no preprint any more
    status, out, err = run("verify", "--published", "--root", str(repo))
    assert "published as" not in out and "0 preprints searched" in err


def test_other_preprints_other_authors_and_other_titles_are_never_taken(repo: Path, env: Path, server: FakeServer,
                                                                         run: Run) -> None:
    path = _as_preprint(repo)
    server.add(SEARCH, Reply(200, (FIXTURES / "crossref" / "search_decoys_only.json").read_bytes()))
    before = path.read_bytes()
    status, out, err = run("verify", "--published", "--fix", "--root", str(repo))
    assert status == 0 and "published as" not in out and "(0 fixed)" in err
    assert path.read_bytes() == before


def test_a_venue_taxonomy_does_not_know_is_not_written(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    path = _as_preprint(repo)
    body = (FIXTURES / "crossref" / "search_e2vpt.json").read_text(encoding="utf-8")
    server.add(SEARCH, Reply(200, body.replace(ICCV, "Journal of Imaginary Results")))
    before = path.read_bytes()
    status, out, _ = run("verify", "--published", "--fix", "--root", str(repo))
    assert status == 1 and 'no venue id of taxonomy.yaml names "Journal of Imaginary Results"' in out
    assert path.read_bytes() == before


def test_a_failed_write_leaves_the_file_untouched(repo: Path, env: Path, server: FakeServer, run: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = _as_preprint(repo)
    server.add(SEARCH, Reply(200, (FIXTURES / "crossref" / "search_e2vpt.json").read_bytes()))

    def full_disk(target: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paper_edit, "replace_file", full_disk)
    before = path.read_bytes()
    status, out, _ = run("verify", "--published", "--fix", "--root", str(repo))
    assert status == 1 and "--fix failed: cannot write papers/han2023e2vpt.yaml: No space left on device" in out
    assert path.read_bytes() == before


def test_a_malformed_search_answer_is_one_line_at_the_paper(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    path = _as_preprint(repo)
    server.add(SEARCH, Reply(200, (FIXTURES / "crossref" / "malformed.json").read_bytes()))
    status, out, _ = run("verify", "--published", "--root", str(repo))
    assert status == 1
    assert f"han2023e2vpt.yaml:{_line_of(path, 'venue:')}: venue: cannot look for the published version: " \
           "Crossref answered" in out


def test_crossref_down_stops_with_a_clear_message(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    _as_preprint(repo)
    server.add(SEARCH, Reply(503, "down"))
    status, out, err = run("verify", "--published", "--root", str(repo))
    assert status == 1 and err.startswith("error: Crossref search: 127.0.0.1 answered HTTP 503")


def test_fix_needs_published(repo: Path, run: Run) -> None:
    status, _, err = run("verify", "--fix", "--root", str(repo))
    assert status == 2 and "--fix" in err and "--published" in err


def test_edit_keeps_comments_flow_lists_and_replaces_multi_line_values() -> None:
    text = ("# header comment\n"
            "id: x2020paper\n"
            "title: >-\n  An Old Title\n  on Two Lines\n"
            "authors: [Ann Lee, \"Bo, Jr.\"]  # flow style\n"
            "year: 2020   # first version\n"
            "venue: arXiv\n"
            "arxiv: \"2001.00001\"\n"
            "\n# a comment before kind\n"
            "kind: method\n")
    doc = parse_yaml_text(text, "x.yaml")
    new = edit_fields(text, doc, {"title": "A New: Title #1", "authors": ["Ann Lee", "Bo Chen", "Cy Dee"],
                                  "year": 2021, "venue": "CVPR", "doi": "10.1109/CVPR.2021.00001"},
                      after=("arxiv", "venue"))
    assert new == ("# header comment\n"
                   "id: x2020paper\n"
                   'title: "A New: Title #1"\n'
                   "authors: [Ann Lee, Bo Chen, Cy Dee]  # flow style\n"
                   "year: 2021   # first version\n"
                   "venue: CVPR\n"
                   "arxiv: \"2001.00001\"\n"
                   "doi: 10.1109/CVPR.2021.00001\n"
                   "\n# a comment before kind\n"
                   "kind: method\n")
    data = parse_yaml_text(new, "x.yaml").data
    assert data["title"] == "A New: Title #1" and data["year"] == 2021 and data["authors"][1] == "Bo Chen"


def test_edit_block_list_at_column_zero() -> None:
    text = "authors:\n- Ann Lee\n- Bo Chen\nyear: 2020\n"
    doc = parse_yaml_text(text, "x.yaml")
    assert edit_fields(text, doc, {"authors": ["Ann Lee"]}) == "authors:\n- Ann Lee\nyear: 2020\n"
