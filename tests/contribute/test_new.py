"""``new``: end to end against the local server, into a temporary copy of the repository."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.load import validate

from .conftest import ARXIV_PATH, FIXTURES, FakeServer, Reply

Run = Callable[..., tuple[int, str, str]]
HUMAN_FIELDS = {"method", "modality", "summary", "venue", "(entry)"}


def _problems_of(root: Path, name: str) -> list[str]:
    _, problems = validate(root)
    return [str(p) for p in problems if p.path == f"papers/{name}" and p.severity == "error"]


def _line_of(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(f"{key}:"):
            return number
    raise AssertionError(f"{key} not in {path}")


def test_new_from_arxiv_writes_the_facts_and_leaves_the_human_fields(repo: Path, env: Path, run: Run) -> None:
    (repo / "papers" / "jia2022visual.yaml").unlink()
    status, out, err = run("new", "--arxiv", "2203.12119", "--root", str(repo))
    assert status == 0, err
    path = repo / "papers" / "jia2022visual.yaml"
    assert "wrote papers/jia2022visual.yaml" in out
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/paper.schema.json"
    assert "title: Visual Prompt Tuning\n" in text and "  - Ser-Nam Lim\n" in text
    assert re.search(r"^year: 2022 ", text, re.M) and re.search(r"^venue: arXiv ", text, re.M)
    assert 'arxiv: "2203.12119"' in text

    # validate points at the human fields, with their lines, and at nothing else
    errors = _problems_of(repo, "jia2022visual.yaml")
    assert sorted(errors) == sorted([
        f"papers/jia2022visual.yaml:{_line_of(path, 'method')}: method: "
        "required for kind: method, e.g. method: [vpt-learnable]",
        f"papers/jia2022visual.yaml:{_line_of(path, 'modality')}: modality: "
        "required for kind: method, e.g. modality: [visual]",
        f"papers/jia2022visual.yaml:{_line_of(path, 'summary')}: summary: String should have at least 1 character",
    ])

    # once the summary is written, validate still asks for the method
    path.write_text(text.replace('summary: ""', "summary: Prompt tokens for a frozen ViT."), encoding="utf-8")
    errors = _problems_of(repo, "jia2022visual.yaml")
    assert errors and all("method" in e or "modality" in e for e in errors)

    # and with both, the scaffold is a valid paper
    path.write_text(path.read_text(encoding="utf-8").replace("method: []", "method: [vpt-learnable]").replace("modality: []", "modality: [visual]"), encoding="utf-8")
    assert _problems_of(repo, "jia2022visual.yaml") == []


def test_new_from_doi_guesses_the_venue(repo: Path, env: Path, run: Run) -> None:
    (repo / "papers" / "han2023e2vpt.yaml").unlink()
    status, out, err = run("new", "--doi", "https://doi.org/10.1109/ICCV51070.2023.01604", "--root", str(repo))
    assert status == 0, err
    text = (repo / "papers" / "han2023e2vpt.yaml").read_text(encoding="utf-8")
    assert 'title: "E^2VPT: An Effective and Efficient Approach for Visual Prompt Tuning"' in text
    assert re.search(r"^venue: ICCV +# guessed from the Crossref container-title", text, re.M)
    assert re.search(r"^year: 2023 ", text, re.M) and "doi: 10.1109/ICCV51070.2023.01604\n" in text
    assert "  - Dongfang Liu\n" in text


def test_new_with_a_journal_ref_that_is_no_known_venue(repo: Path, env: Path, run: Run) -> None:
    status, _, err = run("new", "--arxiv", "0710.2073", "--root", str(repo))
    assert status == 0, err
    path = repo / "papers" / "popolitov2008coincidence.yaml"  # the journal_ref's year is the venue's
    text = path.read_text(encoding="utf-8")
    assert 'venue: ""' in text and "JETP Lett.86:559-561,2008" in text
    assert "doi: 10.1134/S0021364007210011\n" in text
    fields = {e.split(": ")[1] for e in _problems_of(repo, path.name)}
    assert fields <= HUMAN_FIELDS and "venue" in fields


def test_new_refuses_a_paper_already_in_the_knowledge_base(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    before = sorted(p.name for p in (repo / "papers").iterdir())
    status, out, err = run("new", "--arxiv", "arXiv:2203.12119v2", "--root", str(repo))
    assert status == 1 and out == ""
    assert "already in the knowledge base: papers/jia2022visual.yaml has the same arXiv id 2203.12119" in err
    assert server.requests == []  # known ids are refused before any request
    status, _, err = run("new", "--doi", "10.1109/iccv51070.2023.01604", "--root", str(repo))
    assert status == 1 and "papers/han2023e2vpt.yaml has the same DOI" in err
    assert sorted(p.name for p in (repo / "papers").iterdir()) == before


def test_new_refuses_a_duplicate_title(repo: Path, env: Path, run: Run) -> None:
    text = (repo / "papers" / "jia2022visual.yaml").read_text(encoding="utf-8")
    (repo / "papers" / "jia2022visual.yaml").write_text(text.replace('arxiv: "2203.12119"\n', 'url: https://example.org/vpt\n'),
                                                       encoding="utf-8")
    status, _, err = run("new", "--arxiv", "2203.12119", "--root", str(repo))
    assert status == 1 and "papers/jia2022visual.yaml has the same title" in err


def test_new_never_overwrites_a_file_with_the_same_id(repo: Path, env: Path, run: Run) -> None:
    (repo / "papers" / "jia2022visual.yaml").unlink()
    other = repo / "papers" / "jia2022visual.yaml"
    other.write_text("id: jia2022visual\ntitle: Some Other Paper\n", encoding="utf-8")
    status, _, err = run("new", "--arxiv", "2203.12119", "--root", str(repo))
    assert status == 1 and "already exists and is another paper" in err and "--id" in err
    assert other.read_text(encoding="utf-8") == "id: jia2022visual\ntitle: Some Other Paper\n"
    status, out, err = run("new", "--arxiv", "2203.12119", "--id", "jia2022visual-2", "--root", str(repo))
    assert status == 0 and (repo / "papers" / "jia2022visual-2.yaml").is_file()


def test_new_dry_run_prints_and_writes_nothing(repo: Path, env: Path, run: Run) -> None:
    (repo / "papers" / "jia2022visual.yaml").unlink()
    status, out, err = run("new", "--arxiv", "2203.12119", "--dry-run", "--root", str(repo))
    assert status == 0 and out.startswith("# yaml-language-server") and "not written" in err
    assert not (repo / "papers" / "jia2022visual.yaml").exists()


def test_new_with_arxiv_and_doi_of_different_papers(repo: Path, env: Path, run: Run) -> None:
    for name in ("jia2022visual.yaml", "han2023e2vpt.yaml"):
        (repo / "papers" / name).unlink()
    status, _, err = run("new", "--arxiv", "2203.12119", "--doi", "10.1109/ICCV51070.2023.01604", "--root", str(repo))
    assert status == 1 and "the arXiv id and the DOI are different papers" in err


FAULTS = {
    "error entry": (Reply(200, (FIXTURES / "arxiv" / "error_incorrect_id.xml").read_bytes()),
                    "the arXiv API rejected the id 2203.1211: incorrect id format for 2203.1211"),
    "malformed XML": (Reply(200, (FIXTURES / "arxiv" / "malformed.xml").read_bytes()), "not XML"),
    "429 exhausted": (Reply(429, "Rate exceeded.", {"Retry-After": "1"}), "HTTP 429"),
    "503 exhausted": (Reply(503, "Service Unavailable"), "HTTP 503"),
    "timeout": (Reply(200, "", delay=1.5), "no answer from 127.0.0.1 within 0.5 s"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_new_fails_cleanly_on_arxiv_faults(fault: str, repo: Path, env: Path, server: FakeServer, run: Run,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    reply, message = FAULTS[fault]
    if fault == "timeout":
        monkeypatch.setenv("SITE_BUILDER_HTTP_RETRIES", "0")
    server.add(f"{ARXIV_PATH}?id_list=2203.1211&max_results=1", reply)
    before = sorted(p.name for p in (repo / "papers").iterdir())
    status, out, err = run("new", "--arxiv", "2203.1211", "--root", str(repo))
    assert status == 1 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert sorted(p.name for p in (repo / "papers").iterdir()) == before  # no file, not even a temporary


def test_new_fails_cleanly_on_unknown_ids_and_dois(repo: Path, env: Path, server: FakeServer, run: Run) -> None:
    status, _, err = run("new", "--arxiv", "2203.99999", "--root", str(repo))
    assert status == 1 and "arXiv has no paper 2203.99999" in err
    status, _, err = run("new", "--doi", "10.1109/NOPE.2023", "--root", str(repo))
    assert status == 1 and "Crossref does not know the DOI 10.1109/NOPE.2023" in err
    server.add("/crossref/works/10.1109/BROKEN", Reply(200, (FIXTURES / "crossref" / "malformed.json").read_bytes()))
    status, _, err = run("new", "--doi", "10.1109/BROKEN", "--root", str(repo))
    assert status == 1 and "not JSON" in err
    status, _, err = run("new", "--root", str(repo))
    assert status == 1 and "give --arxiv ID or --doi DOI" in err


def test_new_fails_cleanly_when_nothing_listens(repo: Path, env: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SITE_BUILDER_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    status, _, err = run("new", "--arxiv", "2401.00001", "--root", str(repo))
    assert status == 1 and "connection refused" in err and "Traceback" not in err


def test_an_arxiv_comment_naming_a_venue_is_a_hint_not_a_fact() -> None:
    import dataclasses

    from site_builder.contribute.arxiv import parse_feed
    from site_builder.contribute.new import build_draft
    from site_builder.contribute.repository import load_taxonomy

    from .conftest import REPO

    (record,) = parse_feed((FIXTURES / "arxiv" / "2203.12119.xml").read_bytes())
    commented = dataclasses.replace(record, comment="Accepted to ECCV 2022")  # type: ignore[type-var]
    draft = build_draft(commented, None, load_taxonomy(REPO))
    assert draft.venue == "arXiv" and draft.year == 2022  # only a journal_ref sets the venue
    assert "the arXiv comment says" in draft.venue_note and "venue ECCV?" in draft.venue_note
