"""``verify``: end to end against the local server; the wrong-arXiv-id case; the cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.contribute.repository import Repository
from site_builder.contribute.sources import ContributeError, SourceRecord
from site_builder.contribute.verify import compare
from site_builder.problems import ProblemList

from .conftest import ARXIV_PATH, FakeServer, Reply

Run = Callable[..., tuple[int, str, str]]


def _line_of(path: Path, prefix: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_correct_paper_passes(repo: Path, env: Path, run: Run) -> None:
    status, out, err = run("verify", "jia2022visual", "--root", str(repo))
    assert status == 0, out + err
    assert out == "" and "1 papers checked against 1 source records: 0 error(s)" in err


def test_an_arxiv_id_of_another_paper_is_caught(repo: Path, env: Path, run: Run) -> None:
    # The survey's classic error: a row links the arXiv id of a different paper (here VPT's).
    path = repo / "papers" / "bahng2022exploring.yaml"
    _edit(path, 'arxiv: "2203.17274"', 'arxiv: "2203.12119"')
    status, out, _ = run("verify", "bahng2022exploring", "--root", str(repo))
    assert status == 1
    lines = out.splitlines()  # sorted by line: the title comes first
    assert lines[0].startswith(f"papers/bahng2022exploring.yaml:{_line_of(path, 'title:')}: title: does not match "
                               'arXiv 2203.12119, which is "Visual Prompt Tuning"')
    assert lines[0].endswith("the id probably belongs to another paper")
    assert lines[1] == (f"papers/bahng2022exploring.yaml:{_line_of(path, '  - Hyojin Bahng')}: authors[0]: "
                        'first author is "Hyojin Bahng" but arXiv 2203.12119 has "Menglin Jia"')


def test_year_rules_against_arxiv(repo: Path, env: Path, run: Run) -> None:
    path = repo / "papers" / "jia2022visual.yaml"
    _edit(path, "year: 2022", "year: 2020")  # posted two years after the "venue": wrong
    status, out, _ = run("verify", "jia2022visual", "--root", str(repo))
    assert status == 1
    assert f"papers/jia2022visual.yaml:{_line_of(path, 'year:')}: year: is 2020, but the first arXiv version" in out
    _edit(path, "year: 2020", "year: 2021")  # one year: a December venue, a January preprint: allowed
    assert run("verify", "jia2022visual", "--root", str(repo))[0] == 0
    _edit(path, "year: 2021", "year: 2025")  # a venue years after the preprint: allowed
    assert run("verify", "jia2022visual", "--root", str(repo))[0] == 0
    _edit(path, "venue: ECCV", "venue: arXiv")  # but a preprint's year is its first version's
    status, out, _ = run("verify", "jia2022visual", "--root", str(repo))
    assert status == 1 and "a preprint's year is that of its first version" in out and "year: 2022" in out


def test_crossref_year_and_unknown_arxiv_id(repo: Path, env: Path, run: Run) -> None:
    path = repo / "papers" / "han2023e2vpt.yaml"
    _edit(path, "year: 2023", "year: 2022")
    status, out, _ = run("verify", "han2023e2vpt", "--root", str(repo))
    assert status == 1
    assert f"papers/han2023e2vpt.yaml:{_line_of(path, 'year:')}: year: is 2022 but Crossref dates 10.1109/ICCV51070.2023.01604 2023" in out
    # the local server has no recorded answer for 2307.13770: arXiv "does not know" it
    assert f"papers/han2023e2vpt.yaml:{_line_of(path, 'arxiv:')}: arxiv: arXiv has no paper 2307.13770" in out


def test_a_doi_crossref_does_not_know(repo: Path, env: Path, run: Run) -> None:
    path = repo / "papers" / "han2023e2vpt.yaml"
    _edit(path, "doi: 10.1109/ICCV51070.2023.01604", "doi: 10.1109/ICCV51070.2023.99999")
    status, out, _ = run("verify", "han2023e2vpt", "--root", str(repo))
    assert status == 1 and f"han2023e2vpt.yaml:{_line_of(path, 'doi:')}: doi: Crossref does not know the DOI" in out


def test_a_rerun_is_answered_from_the_cache(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    assert run("verify", "jia2022visual", "bahng2022exploring", "--root", str(repo))[0] in (0, 1)
    first = len(server.requests)
    assert first == 1  # both arXiv ids in one request
    status, _, err = run("verify", "jia2022visual", "bahng2022exploring", "--root", str(repo))
    assert len(server.requests) == first  # nothing new reached the server
    run("verify", "jia2022visual", "bahng2022exploring", "--refresh", "--root", str(repo))
    assert len(server.requests) == first + 1


def test_verify_stops_with_a_clear_message_when_arxiv_is_down(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    server.add(ARXIV_PATH, Reply(503, "down"))
    status, out, err = run("verify", "jia2022visual", "--root", str(repo))
    assert status == 1 and out == "" and err.startswith("error: the arXiv API: 127.0.0.1 answered HTTP 503")


def test_unknown_paper_id(repo: Path, env: Path, run: Run) -> None:
    status, _, err = run("verify", "nobody2020nothing", "--root", str(repo))
    assert status == 1 and "no paper file for nobody2020nothing" in err


def test_compare_warns_about_author_count_and_doi(repo: Path) -> None:
    (paper,) = Repository.scan(repo).select(["jia2022visual"])
    record = SourceRecord(source="arXiv", key="2203.12119", title="Visual Prompt Tuning", authors=("Menglin Jia",),
                          first_family="Jia", year=2022, accepted_years=(2022,), arxiv="2203.12119", doi=None)
    problems = ProblemList()
    compare(paper, record, problems)
    assert [p.field for p in problems.warnings] == ["authors"] and not problems.errors


def test_select_reports_every_unknown_id(repo: Path) -> None:
    with pytest.raises(ContributeError, match="a1234x, b1234y"):
        Repository.scan(repo).select(["jia2022visual", "a1234x", "b1234y"])
