"""``import-bib``: conversion, duplicates (of files and within the .bib), entries it cannot convert."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from site_builder.load import validate

Run = Callable[..., tuple[int, str, str]]

# Real entries (facts as in papers/*.yaml), plus the mistakes a .bib from the wild contains.
BIB = r"""@inproceedings{wang2022l2p,
  title     = {Learning to Prompt for Continual Learning},
  author    = {Wang, Zifeng and Zhang, Zizhao and Lee, Chen-Yu and Zhang, Han and Sun, Ruoxi and Ren, Xiaoqi
               and Su, Guolong and Perot, Vincent and Dy, Jennifer and Pfister, Tomas},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition},
  year      = {2022},
  eprint    = {2112.08654},
  archivePrefix = {arXiv}
}

@article{jia2022vpt,
  title   = {Visual Prompt {T}uning},
  author  = {Jia, Menglin and Tang, Luming and Chen, Bor-Chun and Cardie, Claire and Belongie, Serge and
             Hariharan, Bharath and Lim, Ser-Nam},
  journal = {arXiv preprint arXiv:2203.12119},
  year    = {2022}
}

@inproceedings{l2p_again,
  title     = {Learning to prompt for continual learning},
  author    = {Wang, Zifeng and others},
  booktitle = {CVPR},
  year      = {2022}
}

@inproceedings{han2023e2vpt,
  title     = {{E\^{}2VPT}: An Effective and Efficient Approach for Visual Prompt Tuning},
  author    = {Han, Cheng and Wang, Qifan and Cui, Yiming and Cao, Zhiwen and Wang, Wenguan and Qi, Siyuan and Liu, Dongfang},
  booktitle = {ICCV},
  year      = {2023},
  doi       = {10.1109/ICCV51070.2023.01604}
}

@misc{truncated,
  title  = {Convolutional Visual Prompt for Robust Visual Perception},
  author = {Tsai, Yun-Yun and others},
  year   = {2023},
  eprint = {2303.00198}
}

@article{noyear,
  title   = {A Paper Without a Year},
  author  = {Doe, Jane},
  journal = {Pattern Recognition},
  doi     = {10.1016/j.patcog.2020.107000}
}

@article{broken, title = {Unclosed, author = {Doe, Jane}
"""


def test_import_bib(repo: Path, env: Path, run: Run, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    status, out, err = run("import-bib", str(bib), "--root", str(repo))
    assert status == 1  # some entries could not be converted
    lines = out.splitlines()

    def outcome(key: str) -> str:
        return next(line for line in lines if f": {key}: " in line)

    assert outcome("wang2022l2p") == f"{bib}:1: wang2022l2p: written: papers/wang2022learning.yaml"
    assert "duplicate: already in papers/jia2022visual.yaml (the same arXiv id 2203.12119)" in outcome("jia2022vpt")
    assert "duplicate: the same title as entry wang2022l2p earlier in the .bib" in outcome("l2p_again")
    assert "duplicate: already in papers/han2023e2vpt.yaml (the same DOI" in outcome("han2023e2vpt")
    assert 'skipped: the author list is truncated ("and others")' in outcome("truncated")
    assert "skipped: no year" in outcome("noyear")
    assert any("skipped: BibTeX syntax error" in line for line in lines)
    assert "1 written, 3 duplicate(s), 3 could not be converted" in err

    path = repo / "papers" / "wang2022learning.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schema/paper.schema.json\n")
    assert "title: Learning to Prompt for Continual Learning\n" in text
    assert "  - Chen-Yu Lee\n" in text and "  - Tomas Pfister\n" in text
    assert "venue: CVPR " in text and 'arxiv: "2112.08654"' in text and "import-bib" in text
    _, problems = validate(repo)
    fields = {p.field for p in problems if p.path == "papers/wang2022learning.yaml" and p.severity == "error"}
    assert fields == {"method", "modality", "summary"}  # the fields only a person can fill


def test_import_bib_dry_run_writes_nothing(repo: Path, env: Path, run: Run, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB.split("@article{jia2022vpt")[0], encoding="utf-8")
    before = sorted(p.name for p in (repo / "papers").iterdir())
    status, out, err = run("import-bib", str(bib), "--dry-run", "--root", str(repo))
    assert status == 0 and "would write: papers/wang2022learning.yaml" in out and "1 to write (dry run)" in err
    assert sorted(p.name for p in (repo / "papers").iterdir()) == before


def test_import_bib_never_overwrites(repo: Path, env: Path, run: Run, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB.split("@article{jia2022vpt")[0], encoding="utf-8")
    other = repo / "papers" / "wang2022learning.yaml"
    other.write_text("id: wang2022learning\ntitle: Something Else Entirely\n", encoding="utf-8")
    status, out, _ = run("import-bib", str(bib), "--root", str(repo))
    assert status == 1 and "the id wang2022learning is taken" in out
    assert other.read_text(encoding="utf-8") == "id: wang2022learning\ntitle: Something Else Entirely\n"


def test_import_bib_unreadable_file(repo: Path, env: Path, run: Run, tmp_path: Path) -> None:
    status, _, err = run("import-bib", str(tmp_path / "missing.bib"), "--root", str(repo))
    assert status == 1 and err.startswith("error: cannot read")
    latin = tmp_path / "latin.bib"
    latin.write_bytes("@misc{a, title={Caf\xe9}}".encode("latin-1"))
    status, _, err = run("import-bib", str(latin), "--root", str(repo))
    assert status == 1 and "not UTF-8" in err
