"""The GitHub workflows, issue form and pull-request template: parsed, and their structure checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.contribute.repository import load_taxonomy

from .conftest import REPO

GITHUB = REPO / ".github"
WORKFLOWS = GITHUB / "workflows"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def _runs(workflow: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for job in workflow["jobs"].values() for step in job.get("steps", []))


def _uses(workflow: dict[str, Any]) -> list[str]:
    return [step["uses"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "uses" in step]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_is_well_formed(path: Path) -> None:
    workflow = _load(path)
    assert workflow.get("name") and _triggers(workflow) and workflow.get("jobs")
    assert isinstance(workflow.get("permissions"), dict), "set permissions explicitly (least privilege)"
    assert "write-all" not in path.read_text(encoding="utf-8")
    for name, job in workflow["jobs"].items():
        assert job.get("runs-on"), name
        assert job.get("steps"), name
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step
            if "uses" in step:
                assert re.match(r"^[\w.-]+/[\w.-]+@v\d+$", step["uses"]), step["uses"]
    assert "secrets." not in re.sub(r"#.*", "", path.read_text(encoding="utf-8"))  # no secrets used


def test_ci_workflow() -> None:
    ci = _load(WORKFLOWS / "ci.yml")
    assert {"pull_request", "push"} <= set(_triggers(ci))
    assert ci["permissions"] == {"contents": "read"}
    (job,) = ci["jobs"].values()
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert str(setup["with"]["python-version"]) == "3.11"
    runs = _runs(ci)
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in runs
    assert 'pip install -e ".[' in runs
    order = [runs.index(c) for c in ("python -m site_builder validate", "python -m site_builder build --check",
                                     "python -m pytest")]
    assert order == sorted(order)


def test_pages_workflow() -> None:
    pages = _load(WORKFLOWS / "pages.yml")
    assert _triggers(pages)["push"] == {"branches": ["main"]}
    assert pages["permissions"]["pages"] == "write" and pages["permissions"]["id-token"] == "write"
    uses = _uses(pages)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    assert "python -m site_builder build" in _runs(pages)
    deploy = pages["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"


def test_weekly_workflow() -> None:
    weekly = _load(WORKFLOWS / "weekly.yml")
    triggers = _triggers(weekly)
    assert "workflow_dispatch" in triggers
    (schedule,) = triggers["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert day == "*" and month == "*" and weekday != "*"  # once a week
    assert weekly["permissions"]["issues"] == "write"
    runs = _runs(weekly)
    assert "python -m site_builder links --report" in runs and "python -m site_builder verify --published" in runs
    assert "gh issue create" in runs and "gh issue edit" in runs  # open, or update the open one
    issue_step = next(s for s in weekly["jobs"]["check"]["steps"] if "gh issue create" in str(s.get("run", "")))
    assert "failure" in issue_step["if"]


def test_gpu_workflow() -> None:
    gpu = _load(WORKFLOWS / "gpu.yml")
    assert set(_triggers(gpu)) == {"push"} and _triggers(gpu)["push"] == {"branches": ["main"]}
    (job,) = gpu["jobs"].values()
    assert job["runs-on"] == ["self-hosted", "gpu"]
    runs = _runs(gpu)
    assert 'pytest tests/reference_impls -m "not slow"' in runs
    assert "-m reference_impls run vpt-deep --device cuda --steps 20" in runs


def test_add_paper_issue_form() -> None:
    form = _load(GITHUB / "ISSUE_TEMPLATE" / "add-paper.yml")
    assert form["name"] and form["description"]
    fields = {item.get("id"): item for item in form["body"] if item["type"] != "markdown"}
    for field_id in ("identifier", "method", "code", "summary", "checks"):
        assert field_id in fields, field_id
    assert fields["identifier"]["validations"]["required"] is True
    assert fields["summary"]["validations"]["required"] is True
    assert fields["code"]["validations"]["required"] is False
    assert fields["checks"]["type"] == "checkboxes" and all(o["required"] for o in fields["checks"]["attributes"]["options"])
    # the dropdown offers exactly the method leaves of taxonomy.yaml (plus "not a method paper")
    options = fields["method"]["attributes"]["options"]
    ids = [m.group(1) for o in options if (m := re.search(r"\(([a-z-]+)\)$", o))]
    assert ids == load_taxonomy(REPO).leaf_ids("method")
    for item in form["body"]:
        assert item["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"}
        if item["type"] != "markdown":
            assert re.match(r"^[a-z][a-z0-9_-]*$", item["id"]) and item["attributes"]["label"]


def test_issue_config_and_pull_request_template() -> None:
    config = _load(GITHUB / "ISSUE_TEMPLATE" / "config.yml")
    assert isinstance(config["blank_issues_enabled"], bool)
    template = (GITHUB / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    boxes = re.findall(r"^- \[ \] ", template, re.M)
    assert len(boxes) >= 5
    for words in ("One paper", "source I looked at", "own words", "official: true", "validate"):
        assert words in template, words
