"""How the knowledge-base pipeline scales: validate + every export vs merely parsing the YAML.

    python benchmarks/kb_scale.py                 # 1,000 and 10,000 synthetic papers
    python benchmarks/kb_scale.py --sizes 500 --repeat 1

For each size, synthetic paper files (about 1 KB each, 30% with reported results) are written to
a temporary repository beside the real taxonomy.yaml. Two comparisons run on the same files, best of
``--repeat`` runs each, the two sides alternating so that both see the same machine:

- whole processes, as a user meets them: ``python -m site_builder --root DIR validate`` against a
  ``python -c`` process that reads the same files and parses each with PyYAML's C loader. Start-up and
  imports count on both sides. Target (DESIGN.md, "Performance targets"): at most 1.5 at 10,000 papers.
- in process, stage by stage: ``validate()`` (strict load, pydantic models, every lint rule, the
  KnowledgeBase) plus rendering every committed output in memory, against the bare parse loop.

The script reports; it always exits 0 unless the pipeline finds errors in the synthetic data.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from site_builder.export import render_outputs  # noqa: E402
from site_builder.lint import SCHEMA_COMMENT  # noqa: E402
from site_builder.load import validate  # noqa: E402
from site_builder.models import SUMMARY_MAX, Taxonomy  # noqa: E402
from site_builder.yaml_loader import load_yaml_file  # noqa: E402

TARGET_RATIO = 1.5  # whole-process validate / whole-process CSafeLoader parse, at the largest size
PARSE_SCRIPT = ("import sys, pathlib, yaml\n"
                "for p in sorted(pathlib.Path(sys.argv[1], 'papers').glob('*.yaml')):\n"
                "    yaml.load(p.read_text(encoding='utf-8'), Loader=yaml.CSafeLoader)\n")
WORDS = ("visual prompt tuning frozen backbone token pixel learnable generated adaptation transformer efficient "
         "robust few-shot segmentation detection medical remote sensing continual federated black-box test-time "
         "zero-shot calibration fairness privacy domain generalisation parameter dense sparse hierarchical").split()
GIVEN = ("Ada Bo Chen Dana Emil Farah Goro Hana Ivan Jia Kofi Lena Mei Nils Olga Pia Quan Rosa Sven Tomás Uma "
         "Vera Wen Xiu Yara Zoë").split()
FAMILY = ("Smith Jones Li Wang Zhang Müller García Kim Park Nguyễn Rossi Silva Tanaka Ivanova Okafor Haddad "
          "Novak Dubois Kowalski Andersen").split()
NAMES = [(given, family) for given in GIVEN for family in FAMILY]


def synthetic_paper(i: int, rng: random.Random, taxonomy: Taxonomy) -> str:
    """One paper file (the YAML text), roughly 1 KB, valid against the taxonomy and unique by id/arXiv/title."""
    year = rng.randint(2019, 2025)
    venue = rng.choice(taxonomy.venues)
    arxiv_year = year if venue.kind == "preprint" else rng.randint(year - 1, year)
    method = rng.sample(taxonomy.leaf_ids("method"), rng.randint(1, 2))
    words = rng.sample(WORDS, 8)
    summary = (f"A synthetic entry ({i}) about {' '.join(rng.sample(WORDS, 8))} that keeps the backbone frozen "
               f"and learns a small prompt instead, then reports {' '.join(rng.sample(WORDS, 6))} on the usual "
               "benchmarks; written only to measure the pipeline.")[:SUMMARY_MAX].strip()
    lines = [
        SCHEMA_COMMENT,
        f"id: paper{i:05d}",
        f"title: {' '.join(w.capitalize() for w in words)} {i}",
        f"short_name: P{i}" if rng.random() < 0.5 else None,
        "authors:",
        *(f"  - {given} {family}" for given, family in rng.sample(NAMES, rng.randint(3, 9))),
        f"year: {year}",
        f"venue: {venue.id}",
        f'arxiv: "{arxiv_year % 100:02d}{rng.randint(1, 12):02d}.{i:05d}"',
        f"doi: 10.1234/synthetic.{i}" if rng.random() < 0.4 else None,
        f"code:\n  - url: https://github.com/example/paper-{i}\n    official: true" if rng.random() < 0.6 else None,
        "kind: method",
        f"method: [{', '.join(method)}]",
        f"modality: [{rng.choice(taxonomy.leaf_ids('modality'))}]",
        f"tasks: [{', '.join(rng.sample(taxonomy.leaf_ids('tasks'), rng.randint(1, 2)))}]",
        f"domains: [{rng.choice(taxonomy.leaf_ids('domains'))}]" if rng.random() < 0.3 else None,
        f"settings: [{rng.choice(taxonomy.leaf_ids('settings'))}]" if rng.random() < 0.3 else None,
        f"trust: [{rng.choice(taxonomy.leaf_ids('trust'))}]" if rng.random() < 0.1 else None,
        "summary: >-",
        *textwrap.wrap(summary, 96, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False),
    ]
    if rng.random() < 0.3:
        lines.append("results:")
        for benchmark in rng.sample([b.id for b in taxonomy.benchmarks], rng.randint(1, 4)):
            lines += [
                f"  - benchmark: {benchmark}",
                f"    value: {rng.uniform(40, 95):.2f}",
                f"    method: P{i}-Deep",
                "    backbone: vit-b16",
                "    pretraining: in21k-supervised",
                f"    source: Table {rng.randint(1, 6)}",
            ]
    return "\n".join(line for line in lines if line is not None) + "\n"


def make_repository(folder: Path, size: int, seed: int = 0) -> list[Path]:
    shutil.copy(ROOT / "taxonomy.yaml", folder / "taxonomy.yaml")
    taxonomy = Taxonomy.model_validate(load_yaml_file(folder / "taxonomy.yaml").data)
    papers = folder / "papers"
    papers.mkdir()
    rng = random.Random(seed)
    paths = []
    for i in range(size):
        path = papers / f"paper{i:05d}.yaml"
        path.write_text(synthetic_paper(i, rng, taxonomy), encoding="utf-8")
        paths.append(path)
    return paths


def parse_only(paths: list[Path]) -> None:
    for path in paths:
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def pipeline(folder: Path) -> dict[str, float]:
    """What `build` does before writing: validate(), then render_outputs(); returns each one's time."""
    start = time.perf_counter()
    kb, problems = validate(folder)
    validated = time.perf_counter()
    if kb is None:
        errors = [str(p) for p in problems if p.severity == "error"]
        sys.exit("synthetic data has errors:\n" + "\n".join(errors[:20]))
    rendered = render_outputs(kb)
    assert {"README.md", "papers.bib", "papers.json", "schema/paper.schema.json"} <= set(rendered)
    return {"validate": validated - start, "render all outputs": time.perf_counter() - validated}


def run_process(argv: list[str]) -> None:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")


def whole_processes(folder: Path) -> dict[str, Callable[[], object]]:
    return {
        "parse process": lambda: run_process([sys.executable, "-c", PARSE_SCRIPT, str(folder)]),
        "validate process": lambda: run_process([sys.executable, "-m", "site_builder", "--root", str(folder),
                                                 "validate"]),
    }


def measure(repeat: int, runs: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float, object]]:
    """Best wall-clock and best CPU time of each run over ``repeat`` rounds; the runs alternate within a
    round so that both see the same machine (a shared machine's load shifts from second to second)."""
    best: dict[str, tuple[float, float, object]] = {name: (float("inf"), float("inf"), None) for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            result = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best_wall, best_cpu, best_result = best[name]
            best[name] = (min(wall, best_wall), min(cpu, best_cpu), result if wall < best_wall else best_result)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    if not hasattr(yaml, "CSafeLoader"):
        print("PyYAML has no C loader (libyaml) here: the comparison would be meaningless.")
        return 0

    rows, processes = [], []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="kb_scale_") as tmp:
            folder = Path(tmp)
            paths = make_repository(folder, size)
            kbytes = sum(p.stat().st_size for p in paths) / 1024 / size
            parse_only(paths)  # warm the page cache before either measurement
            best = measure(args.repeat, {"parse": lambda paths=paths: parse_only(paths),
                                         "pipeline": lambda folder=folder: pipeline(folder),
                                         **whole_processes(folder)})
        rows.append((size, kbytes, best["pipeline"], best["parse"]))
        processes.append((size, best["validate process"][0], best["parse process"][0]))

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; best of {args.repeat} runs each\n")
    print("whole processes (start-up and imports included): `site_builder validate` vs a CSafeLoader parse")
    print(f"{'papers':>8} {'validate':>10} {'parse':>10} {'ratio':>6}")
    for size, validate_wall, parse_wall in processes:
        print(f"{size:>8,} {validate_wall:>9.3f}s {parse_wall:>9.3f}s {validate_wall / parse_wall:>6.2f}")
    print("\nin process: validate() + rendering every output vs the bare parse loop")
    print(f"{'papers':>8} {'KB/file':>8} {'validate+export':>16} {'CSafeLoader parse':>18} {'ratio':>6} {'CPU-time ratio':>15}")
    for size, kbytes, (pipe_wall, pipe_cpu, _), (parse_wall, parse_cpu, _) in rows:
        print(f"{size:>8,} {kbytes:>8.2f} {pipe_wall:>15.3f}s {parse_wall:>17.3f}s {pipe_wall / parse_wall:>6.2f} "
              f"{pipe_cpu / parse_cpu:>15.2f}")
    print("\nstages of the best pipeline run (s):")
    names = list(rows[0][2][2])
    print(f"{'papers':>8} " + " ".join(f"{n:>20}" for n in names))
    for size, _, (_, _, stages), _ in rows:
        print(f"{size:>8,} " + " ".join(f"{stages[n]:>20.3f}" for n in names))
    size, validate_wall, parse_wall = max(processes)
    verdict = "met" if validate_wall / parse_wall <= TARGET_RATIO else "MISSED"
    print(f"\ntarget: whole-process ratio <= {TARGET_RATIO} at the largest size ({size:,}): "
          f"{validate_wall / parse_wall:.2f}, {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
