"""A throw-away repository for the site tests: a few papers, one of them full of HTML-special text.

The repository holds the real taxonomy.yaml, mkdocs.yml and hand-written docs/ (so the tests build
the site exactly as configured), stub reference-implementation modules with ``RUNNERS`` literals, a
bench JSON for one of them, a CONTRIBUTING.md with repository-relative links, and papers written here
so the tests do not depend on the real corpus.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from site_builder import load_knowledge_base
from site_builder.knowledge_base import KnowledgeBase
from site_builder.lint import SCHEMA_COMMENT
from site_builder.site import GENERATED_PATHS

REPO = Path(__file__).resolve().parents[2]

# Text that breaks a page if any layer forgets to escape it: HTML tags and entities, Markdown table
# pipes and emphasis, a Markdown link, a snippet marker, Jinja delimiters, quotes of both kinds.
EVIL_TITLE = 'Prompts <script>alert("x")</script> & Tokens | Pipes *not emphasis* [not a link](https://example.org) {{ jinja }}'
EVIL_SUMMARY = "Uses <img src=x onerror=alert(1)> & a | pipe, --8<-- \"home-counts.md\" and {% raw %} and 'quotes'."

PAPERS: list[dict[str, Any]] = [
    {
        "id": "alpha2022visual",
        "title": "Visual Prompting for Frozen Models",
        "short_name": "AlphaVP",
        "authors": ["Ada Alpha", "Ben Beta"],
        "year": 2022,
        "venue": "ECCV",
        "arxiv": "2203.00001",
        "code": [{"url": "https://github.com/example/alphavp", "official": True},
                 {"url": "https://github.com/someone/alphavp-port", "official": False}],
        "method": ["vp-learnable"],
        "modality": ["visual"],
        "tasks": ["classification"],
        "settings": ["black-box"],
        "summary": "Learns one border prompt shared by every image, so a frozen model solves a new task.",
        "results": [
            {"benchmark": "vtab1k-natural", "value": 70.25, "method": "AlphaVP", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table 2"},
            {"benchmark": "cifar100-lt-ir100-error", "value": 20.5, "method": "AlphaVP", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table 5"},
        ],
    },
    {
        "id": "gamma2023deep",
        "title": "Deep Prompt Tokens Everywhere",
        "short_name": "DeepTok",
        "authors": ["Gil Gamma"],
        "year": 2023,
        "venue": "CVPR",
        "arxiv": "2303.00002",
        "doi": "10.1109/CVPR.2023.00002",
        "code": [{"url": "https://github.com/example/deeptok", "official": True}],
        "method": ["vpt-learnable"],
        "modality": ["visual"],
        "tasks": ["classification", "segmentation"],
        "domains": ["medical"],
        "summary": "Inserts learned tokens before every block of a frozen ViT.",
        "results": [
            {"benchmark": "vtab1k-natural", "value": 78.5, "method": "DeepTok", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table 1"},
            {"benchmark": "vtab1k-natural", "value": 70.25, "method": "DeepTok-Shallow", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table 1"},
            {"benchmark": "vtab1k-natural", "value": 99.0, "method": "DeepTok", "backbone": "vit-l16",
             "pretraining": "mae", "source": "Table 7"},
            {"benchmark": "vtab1k-natural", "value": 70.25, "method": "AlphaVP", "paper": "alpha2022visual",
             "backbone": "vit-b16", "pretraining": "in21k-supervised",
             "source": "Table 1, the AlphaVP row reprinted from its paper's main table, three seeds averaged"},
            {"benchmark": "cifar100-lt-ir100-error", "value": 18.0, "method": "DeepTok", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table 6"},
        ],
    },
    {
        "id": "kappa2022learning",
        "title": "Learning Text Prompts for Vision-Language Models",
        "short_name": "TexP",
        "authors": ["Kai Kappa", "Lea Lambda"],
        "year": 2022,
        "venue": "ICCV",
        "doi": "10.1109/ICCV.2022.00001",
        "method": ["vpt-learnable"],
        "modality": ["textual"],
        "tasks": ["classification"],
        "summary": "Learns the context words of a CLIP text prompt; the image encoder is left untouched.",
    },
    {
        "id": "delta2024survey",
        "title": "A Survey of Prompting Vision Models",
        "authors": ["Dee Delta", "Eve Epsilon"],
        "year": 2024,
        "venue": "arXiv",
        "arxiv": "2401.00003",
        "kind": "survey",
        "tasks": ["classification"],
        "summary": "Reviews visual prompting and prompt tuning.",
    },
    {
        "id": "evil2024tags",
        "title": EVIL_TITLE,
        "short_name": "E<V>&P",
        "authors": ["Ann O'Neil & Co", "Bob <b>Bold</b> Smith"],
        "year": 2024,
        "venue": "NeurIPS",
        "arxiv": "2405.00004",
        "code": [{"url": "https://github.com/evil/repo?a=1&b=2", "official": True}],
        "method": ["vpt-generated", "vp-fixed"],
        "modality": ["visual"],
        "tasks": ["segmentation"],
        "trust": ["robustness"],
        "summary": EVIL_SUMMARY,
        "results": [
            {"benchmark": "vtab1k-natural", "value": 80.0, "method": "E<V>|&P", "backbone": "vit-b16",
             "pretraining": "in21k-supervised", "source": "Table <3> & |4|"},
        ],
    },
]

BENCH = {
    "device": "cpu",
    "results": [
        {"name": "pad-prompter", "accuracy": 0.8125, "trainable_params": 1234, "backbone_params": 200000,
         "trainable_percent": 0.617, "seconds": 3.5, "step_ms": 10.0, "peak_mem_mb": None,
         "extra": {"task": "texture-side", "no_prompt_accuracy": 0.375},
         "reference": {"label": "without the prompt", "accuracy": 0.375}},
        {"name": "linear-probe", "accuracy": 0.5, "trainable_params": 650, "backbone_params": 200000,
         "trainable_percent": 0.325, "seconds": 1.0, "step_ms": 2.0, "peak_mem_mb": None,
         "extra": {"task": "texture-side"}, "reference": {"label": "without the prompt", "accuracy": "not a number"}},
    ],
}

CONTRIBUTING = """# Contributing

Copy [the template](papers/EXAMPLE.yaml) to `papers/<id>.yaml`, check it against
[taxonomy.yaml](taxonomy.yaml) and read [the design](https://example.org/design#data).

```markdown
A [link in code](papers/EXAMPLE.yaml) stays as written.
```

See [the top](#contributing).

<!-- fields:start -->
<!-- fields:end -->
"""


def write_paper(root: Path, data: dict[str, Any]) -> Path:
    path = root / "papers" / f"{data['id']}.yaml"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(f"{SCHEMA_COMMENT}\n{text}", encoding="utf-8")
    return path


def _ignore_generated(directory: str, names: list[str]) -> set[str]:
    if Path(directory).resolve() == (REPO / "docs").resolve():
        return {n for n in names if n in GENERATED_PATHS}
    return set()


def make_site_repo(root: Path, papers: list[dict[str, Any]] | None = None) -> Path:
    """A repository under ``root`` with everything the site build needs."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "taxonomy.yaml", root / "taxonomy.yaml")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "docs", root / "docs", ignore=_ignore_generated)
    shutil.copytree(REPO / "overrides", root / "overrides")
    # The real errata page links real papers; this repository holds only the test papers, so it gets
    # an errata page of its own that links one of them (tests/kb checks the real page's links).
    first = (PAPERS if papers is None else papers)[0]["id"]
    (root / "docs" / "errata.md").write_text(
        f"# Errata\n\nA correction, see [the entry](papers/{first}/index.md).\n\n--8<-- \"report-errors.md\"\n",
        encoding="utf-8"
    )
    (root / "CONTRIBUTING.md").write_text(CONTRIBUTING, encoding="utf-8")
    impls = root / "reference_impls"
    impls.mkdir()
    taxonomy = yaml.safe_load((root / "taxonomy.yaml").read_text(encoding="utf-8"))
    modules = sorted({c["reference_impl"] for c in _walk(taxonomy["facets"]["method"]["categories"])
                      if c.get("reference_impl")})
    for module in modules:
        runners = ["pad-prompter", "fixed-patch"] if module == "vp_learnable" else []
        body = ", ".join(f'"{name}": run' for name in runners)
        (impls / f"{module}.py").write_text(f'"""Stub of {module}."""\n\nrun = None\nRUNNERS = {{{body}}}\n',
                                            encoding="utf-8")
    (impls / "test_time.py").write_text('RUNNERS = {"tpt": None}\n', encoding="utf-8")  # a setting's module
    (impls / "bench.json").write_text(json.dumps(BENCH), encoding="utf-8")
    (root / "papers").mkdir()
    for data in PAPERS if papers is None else papers:
        write_paper(root, data)
    return root


def _walk(categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for category in categories:
        out.append(category)
        out.extend(_walk(category.get("children", [])))
    return out


def load(root: Path) -> KnowledgeBase:
    return load_knowledge_base(root)
