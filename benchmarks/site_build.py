"""Time the site build: page generation plus MkDocs vs Zensical, on the real corpus and a synthetic one.

    python benchmarks/site_build.py                 # real corpus and 1,000 synthetic papers, both builders
    python benchmarks/site_build.py --synthetic 5000 --repeat 3 --builders zensical

Each corpus is copied into a temporary repository (taxonomy.yaml, papers/, mkdocs.yml, the hand-written
docs/, CONTRIBUTING.md, reference_impls/*.py; a method module not written yet is stubbed so the
taxonomy validates), loaded once, then for each builder: ``generate_pages`` (Python, timed alone) and
the builder in a child process (``mkdocs build --strict`` / ``zensical build --clean --strict``: cold,
no cache), best of ``--repeat`` runs. Two tables print both builders side by side with their ratio:
wall time, and CPU time (user + system, the child's included), which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from site_builder import load_knowledge_base  # noqa: E402
from site_builder.knowledge_base import KnowledgeBase  # noqa: E402
from site_builder.lint import SCHEMA_COMMENT  # noqa: E402
from site_builder.site import GENERATED_PATHS, builder_available, generate_pages, run_builder  # noqa: E402

WORDS = ("visual prompt tuning frozen backbone adaptive token pixel frequency generator black-box "
         "segmentation tracking medical remote sensing robust federated continual few-shot long-tailed "
         "calibration transformer efficient parameter learnable dynamic instance aware contrastive").split()
BACKBONES = ("vit-b16", "vit-l16", "swin-b", "clip-vit-b16")  # ids of `backbones` in taxonomy.yaml
PRETRAININGS = ("in21k-supervised", "mae", "clip-openai", "moco-v3")


@dataclass
class Timing:
    generate: float  # wall seconds
    build: float  # wall seconds of the builder's child process
    build_cpu: float  # CPU seconds (user + system) of that child process: robust to a busy machine
    generate_cpu: float
    pages: int

    @property
    def total(self) -> float:
        return self.generate + self.build

    @property
    def total_cpu(self) -> float:
        return self.generate_cpu + self.build_cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_repo(target: Path, papers_dir: Path | None) -> Path:
    """A throw-away copy of the repository's site inputs; papers from ``papers_dir`` (None: none)."""
    target.mkdir(parents=True)
    for name in ("taxonomy.yaml", "mkdocs.yml", "CONTRIBUTING.md"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "docs", target / "docs",
                    ignore=lambda d, names: {n for n in names if Path(d) == ROOT / "docs" and n in GENERATED_PATHS})
    if (ROOT / "overrides").is_dir():  # the theme additions mkdocs.yml names (theme.custom_dir)
        shutil.copytree(ROOT / "overrides", target / "overrides")
    impls = target / "reference_impls"
    impls.mkdir()
    for source in (ROOT / "reference_impls").glob("*.py"):
        shutil.copy(source, impls / source.name)
    for bench in ("bench.json",):
        if (ROOT / "reference_impls" / bench).is_file():
            shutil.copy(ROOT / "reference_impls" / bench, impls / bench)
    taxonomy = yaml.safe_load((target / "taxonomy.yaml").read_text(encoding="utf-8"))
    for category in _walk(taxonomy["facets"]["method"]["categories"]):
        module = category.get("reference_impl")
        if module and not (impls / f"{module}.py").is_file():
            (impls / f"{module}.py").write_text("RUNNERS = {}\n", encoding="utf-8")
    (target / "papers").mkdir()
    if papers_dir is None:  # the real errata page links real papers, which a synthetic corpus lacks
        (target / "docs" / "errata.md").write_text("# Errata\n\nNo correction in a synthetic corpus.\n",
                                                   encoding="utf-8")
    if papers_dir is not None:
        for source in papers_dir.glob("*.yaml"):
            if source.name != "EXAMPLE.yaml":
                shutil.copy(source, target / "papers" / source.name)
    return target


def _walk(categories: list[dict]) -> list[dict]:
    out = []
    for category in categories:
        out.append(category)
        out.extend(_walk(category.get("children", [])))
    return out


def write_synthetic_papers(root: Path, n: int, *, seed: int = 0) -> None:
    """``n`` valid, varied papers (categories, venues, code, results) written as papers/*.yaml."""
    rng = random.Random(seed)
    taxonomy = yaml.safe_load((root / "taxonomy.yaml").read_text(encoding="utf-8"))
    leaves = {f: [c["id"] for c in _walk(taxonomy["facets"][f]["categories"]) if not c.get("children")]
              for f in ("method", "modality", "tasks", "domains", "settings", "trust")}
    venues = [v["id"] for v in taxonomy["venues"] if v["id"] != "arXiv"]
    benchmarks = [b["id"] for b in taxonomy["benchmarks"]]
    for i in range(n):
        year = rng.randint(2019, 2025)
        title_words = rng.sample(WORDS, rng.randint(4, 9))
        data: dict = {
            "id": f"synth{year}paper{i:05d}",
            "title": " ".join(w.capitalize() for w in title_words) + f" {i}",
            "short_name": f"SP{i}" if rng.random() < 0.6 else None,
            "authors": [f"Author{rng.randint(1, 400)} Family{j}{i}" for j in range(rng.randint(1, 7))],
            "year": year,
            "venue": rng.choice(venues) if rng.random() < 0.8 else "arXiv",
            "arxiv": f"{year % 100:02d}{rng.randint(1, 12):02d}.{i:05d}",
            "code": [{"url": f"https://github.com/synthetic/repo{i}", "official": True}] if rng.random() < 0.6 else None,
            "method": rng.sample(leaves["method"], rng.choice((1, 1, 1, 2))),
            "modality": [rng.choices(leaves["modality"], weights=(7, 2, 1)[:len(leaves["modality"])])[0]],
            "tasks": rng.sample(leaves["tasks"], rng.randint(1, 2)),
            "domains": rng.sample(leaves["domains"], 1) if rng.random() < 0.3 else None,
            "settings": rng.sample(leaves["settings"], 1) if rng.random() < 0.3 else None,
            "trust": rng.sample(leaves["trust"], 1) if rng.random() < 0.15 else None,
            "summary": "A synthetic entry for the site benchmark: " + " ".join(rng.sample(WORDS, 12)) + ".",
        }
        if data["venue"] == "arXiv":
            data["arxiv"] = f"{year % 100:02d}{rng.randint(1, 12):02d}.{i:05d}"
        if rng.random() < 0.25:
            data["results"] = [
                {"benchmark": rng.choice(benchmarks), "value": round(rng.uniform(40, 95), 2),
                 "method": f"SP{i}-{k}", "backbone": rng.choice(BACKBONES), "pretraining": rng.choice(PRETRAININGS),
                 "source": f"Table {rng.randint(1, 9)}"}
                for k in range(rng.randint(1, 4))
            ]
        data = {k: v for k, v in data.items() if v is not None}
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
        (root / "papers" / f"{data['id']}.yaml").write_text(f"{SCHEMA_COMMENT}\n{text}", encoding="utf-8")


def time_builder(kb: KnowledgeBase, root: Path, builder: str, repeat: int) -> Timing:
    best: Timing | None = None
    for _ in range(repeat):
        shutil.rmtree(root / "site", ignore_errors=True)
        shutil.rmtree(root / "docs" / "papers", ignore_errors=True)  # a cold generation every time
        started, started_cpu = time.perf_counter(), time.process_time()
        written = generate_pages(kb, root / "docs")
        generate, generate_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        children = _children_cpu()
        build = run_builder(root, builder=builder, strict=True)  # type: ignore[arg-type]
        build_cpu = _children_cpu() - children
        pages = sum(1 for p in written if p.suffix == ".md" and not p.parent.name == "generated")
        timing = Timing(generate, build, build_cpu, generate_cpu, pages)
        if best is None or timing.total < best.total:
            best = timing
    assert best is not None
    return best



def corpus_repos(tmp: Path, *, real: bool, synthetic: int) -> Iterator[tuple[str, Path, bool]]:
    """(label, repository, whether it is synthetic) for the real corpus and/or ``synthetic`` generated papers, each in its own
    throw-away repository under ``tmp``."""
    corpora = [("real corpus", ROOT / "papers", 0)] if real else []
    if synthetic:
        corpora.append((f"{synthetic:,} synthetic", None, synthetic))
    for i, (label, papers_dir, n) in enumerate(corpora):
        root = make_repo(tmp / f"repo{i}", papers_dir)
        if n:
            write_synthetic_papers(root, n)
        yield label, root, bool(n)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic corpus size (0: skip)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    parser.add_argument("--builders", nargs="+", default=["mkdocs", "zensical"], choices=["mkdocs", "zensical"])
    parser.add_argument("--no-real", action="store_true", help="skip the real corpus")
    args = parser.parse_args(argv)

    builders = [b for b in args.builders if builder_available(b)]
    for missing in sorted(set(args.builders) - set(builders)):
        print(f"skipping {missing}: not installed", file=sys.stderr)
    if not builders:
        return 1
    print(f"site build benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeat}")

    results: list[tuple[str, int, dict[str, Timing]]] = []
    with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
        for label, root, _ in corpus_repos(Path(tmp), real=not args.no_real, synthetic=args.synthetic):
            started = time.perf_counter()
            kb = load_knowledge_base(root)
            print(f"{label}: {len(kb.papers)} papers loaded and validated in {time.perf_counter() - started:.2f} s")
            timings = {}
            for builder in builders:
                timings[builder] = time_builder(kb, root, builder, args.repeat)
                t = timings[builder]
                print(f"  {builder:<9} generate {t.generate:6.2f} s + build {t.build:7.2f} s = {t.total:7.2f} s wall;"
                      f" CPU {t.generate_cpu:.2f} + {t.build_cpu:.2f} = {t.total_cpu:.2f} s  ({t.pages} pages)")
            results.append((label, len(kb.papers), timings))

    for kind, total, build in (("wall", "total", "build"), ("CPU", "total_cpu", "build_cpu")):
        print(f"\n{kind} seconds (generate + build, best of {args.repeat})")
        header = f"{'corpus':<18}{'papers':>7}{'pages':>7}{'generate':>10}"
        header += "".join(f"{b + ' build':>16}{b + ' total':>16}" for b in builders)
        if len(builders) == 2:
            header += f"{'mkdocs/zensical':>17}"
        print(header)
        for label, n, timings in results:
            first = timings[builders[0]]
            generate = first.generate if kind == "wall" else first.generate_cpu
            row = f"{label:<18}{n:>7}{first.pages:>7}{generate:>9.2f}s"
            row += "".join(f"{getattr(timings[b], build):>15.2f}s{getattr(timings[b], total):>15.2f}s" for b in builders)
            if len(builders) == 2:
                row += f"{getattr(timings['mkdocs'], total) / getattr(timings['zensical'], total):>16.2f}x"
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
