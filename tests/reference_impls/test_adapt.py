"""`train` / `evaluate` / `predict` on an image folder made here with Pillow (adapt.py and its modules).

Every method trains one short epoch on a 3-class folder of coloured-noise images with a random
TinyViT saved to a .safetensors file (no pretraining, nothing downloaded), so the whole file runs
in well under a minute on one CPU thread; the torchrun case starts two real processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from reference_impls import cli
from reference_impls.checkpoint import load_trained_state, save_checkpoint, trained_state
from reference_impls.imagefolder import ImageDataset, scan_image_folder
from reference_impls.recipes import RECIPES, build_model, wrapper_inputs
from reference_impls.tiny_vit import TinyViT
from reference_impls.train import Processes, TrainConfig, fit
from reference_impls.vit_weights import fingerprint, load_backbone

ROOT = Path(__file__).resolve().parents[2]
COLOURS = ((200, 40, 40), (40, 200, 40), (40, 40, 200))


def make_folder(root: Path, *, train: int = 6, val: int | None = 2, size: tuple[int, int] = (40, 36)) -> Path:
    """3 classes of coloured noise, PNG and JPEG mixed; `val=None` leaves out val/."""
    gen = torch.Generator().manual_seed(0)
    for split, count in (("train", train), ("val", val)):
        if count is None:
            continue
        for c, colour in enumerate(COLOURS):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                noise = torch.randint(0, 80, (size[1], size[0], 3), generator=gen)
                pixels = (torch.tensor(colour).view(1, 1, 3) + noise).clamp(0, 255).to(torch.uint8).numpy()
                Image.fromarray(pixels).save(folder / f"{i}.{'png' if i % 2 else 'jpg'}")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_file(TinyViT().state_dict(), path)
    return path


def train_args(method: str, data: Path, out: Path, weights: Path, *extra: str) -> list[str]:
    return ["train", method, "--data", str(data), "--out", str(out), "--weights", str(weights), "--epochs", "1",
            "--batch-size", "6", *extra]


def printed_accuracy(text: str, marker: str) -> str:
    line = next(line for line in text.splitlines() if marker in line)
    return line.split(marker)[1].split("%")[0].strip()


# --- train -> checkpoint -> evaluate, for every method ------------------------------------------


@pytest.mark.parametrize("method", list(RECIPES))
def test_train_saves_only_the_method_and_evaluate_reproduces_its_accuracy(
        method: str, data: Path, weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args(method, data, out, weights)) == 0
    trained = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "prompt.safetensors"]
    assert not [p for p in tmp_path.iterdir() if p.name != "ckpt"], "a staging folder was left behind"
    config = json.loads((out / "config.json").read_text())
    tensors = load_file(out / "prompt.safetensors")

    # Exactly the wrapper's own tensors: trainable ones, plus (documented) a label mapping and
    # BlackVIP's frozen random encoder; never one of the backbone's (unless it is fine-tuned).
    assert set(tensors) == set(config["prompt"]["tensors"])
    extras = {k for k in tensors if k.startswith(("label_mapping.", "prompter.encoder."))}
    assert sum(t.numel() for k, t in tensors.items() if k not in extras) == config["trainable_parameters"]
    if method == "full-finetune":
        assert {k.removeprefix("backbone.") for k in tensors} == set(TinyViT().state_dict())
    else:
        assert not any(k.startswith(("vit.", "backbone.")) for k in tensors), sorted(tensors)
        assert (out / "prompt.safetensors").stat().st_size < 0.1 * config["backbone"]["bytes"]
    assert config["method"] == method and config["classes"] == ["class0", "class1", "class2"]
    assert config["backbone"]["fingerprint"] == fingerprint(load_file(weights))
    assert config["image_size"] == 32 and len(config["metrics"]) == 1

    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data)]) == 0
    evaluated = capsys.readouterr().out
    assert printed_accuracy(evaluated, "accuracy ") == printed_accuracy(trained, "validation accuracy ")


def test_checkpoint_loads_back_bit_identically(data: Path, weights: Path, tmp_path: Path) -> None:
    split = scan_image_folder(data)
    backbone = load_backbone("tiny-vit", weights)
    torch.manual_seed(0)
    recipe = RECIPES["vpt-deep"]
    model = build_model(recipe, backbone.module, num_classes=3, image_size=32, mean=backbone.mean, std=backbone.std)
    before = {k: v.clone() for k, v in backbone.module.state_dict().items()}
    fit(model, train_set=ImageDataset(split.train, 32), val_set=ImageDataset(split.val, 32),
        inputs=lambda x: wrapper_inputs(x, backbone.mean, backbone.std),
        config=TrainConfig(epochs=1, batch_size=6, lr=0.1), procs=Processes(), log=lambda _: None)
    assert all(torch.equal(before[k], v) for k, v in backbone.module.state_dict().items()), "backbone changed"
    saved = trained_state(model, backbone.module)
    assert set(saved) == {n for n, p in model.named_parameters() if p.requires_grad}
    save_checkpoint(tmp_path / "ckpt", saved, {"method": "vpt-deep"})
    tensors = load_file(tmp_path / "ckpt" / "prompt.safetensors")
    fresh = build_model(recipe, load_backbone("tiny-vit", weights).module, num_classes=3, image_size=32,
                        mean=backbone.mean, std=backbone.std)
    load_trained_state(fresh, fresh.vit, tensors, "prompt.safetensors")
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, fresh.state_dict()[name]), name


def test_predict_prints_top_k(data: Path, weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args("linear-probe", data, out, weights)) == 0
    capsys.readouterr()
    images = [data / "val" / "class0" / "0.jpg", data / "val" / "class2" / "1.png"]
    assert cli.main(["predict", "--checkpoint", str(out), *map(str, images), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, image in zip(lines, images, strict=True):
        assert line.startswith(f"{image}: class") and line.count("%") == 2


def test_seeded_split_without_val_folder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", train=10, val=None)
    first, again = scan_image_folder(root, seed=3), scan_image_folder(root, seed=3)
    assert first == again and first.val_source.startswith("seeded split")
    assert len(first.val) == 3 * 2 and len(first.train) == 3 * 8
    assert not {p for p, _ in first.val} & {p for p, _ in first.train}
    assert scan_image_folder(root, seed=4).val != first.val


def test_fingerprint_mismatch_is_refused(data: Path, weights: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args("vpt-shallow", data, out, weights)) == 0
    torch.manual_seed(1)
    other = tmp_path / "other.safetensors"
    save_file(TinyViT().state_dict(), other)
    capsys.readouterr()
    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data), "--weights", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(other) in err and "fingerprint" in err and "differs" in err


# --- several processes ---------------------------------------------------------------------------


def _torchrun(args: list[str], nproc: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "reference_impls", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["vpt-deep", "blackvip-spsa"])
def test_torchrun_two_processes_match_one(method: str, data: Path, weights: Path, tmp_path: Path) -> None:
    # Prompt dropout off: with it, each process draws masks for its own shard (see train.py).
    extra = ["--prompt-dropout", "0"] if method == "vpt-deep" else []
    one = _torchrun([*train_args(method, data, tmp_path / "one", weights), "--epochs", "2", *extra], 1)
    two = _torchrun([*train_args(method, data, tmp_path / "two", weights), "--epochs", "2", *extra], 2)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    assert "2 process(es) on cpu" in two.stdout and two.stdout.count("wrote ") == 1  # rank 0 only
    a, b = load_file(tmp_path / "one" / "prompt.safetensors"), load_file(tmp_path / "two" / "prompt.safetensors")
    assert set(a) == set(b)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-4, msg=name)
    metrics_one = json.loads((tmp_path / "one" / "config.json").read_text())["metrics"]
    metrics_two = json.loads((tmp_path / "two" / "config.json").read_text())["metrics"]
    for m1, m2 in zip(metrics_one, metrics_two, strict=True):  # reduced over both processes
        assert m1["val_accuracy"] == m2["val_accuracy"]
        assert m1["train_loss"] == pytest.approx(m2["train_loss"], rel=1e-4, abs=1e-6)
    assert json.loads((tmp_path / "two" / "config.json").read_text())["training"]["world_size"] == 2


# --- bad input: one line naming the file, exit 2, nothing written ------------------------------


def _broken_folders(root: Path) -> dict[str, tuple[Path, str]]:
    """case -> (data folder, the path the message must name)."""
    cases: dict[str, tuple[Path, str]] = {}
    empty = root / "empty"
    empty.mkdir()
    cases["empty folder"] = (empty, str(empty / "train"))
    loose = make_folder(root / "loose")
    shutil.copy(loose / "train" / "class0" / "0.jpg", loose / "train" / "stray.jpg")
    cases["image outside a class folder"] = (loose, str(loose / "train" / "stray.jpg"))
    single = root / "single"
    make_folder(single)
    for c in (1, 2):
        shutil.rmtree(single / "train" / f"class{c}")
        shutil.rmtree(single / "val" / f"class{c}")
    cases["one class"] = (single, str(single / "train"))
    no_images = make_folder(root / "noimages")
    (no_images / "train" / "class3").mkdir()
    (no_images / "train" / "class3" / "notes.txt").write_text("no images here")
    cases["class folder without images"] = (no_images, str(no_images / "train" / "class3"))
    missing = make_folder(root / "missing")
    shutil.rmtree(missing / "val" / "class1")
    cases["class missing from val"] = (missing, "class1")
    unreadable = make_folder(root / "unreadable")
    (unreadable / "train" / "class2" / "broken.png").write_text("this is not a png")
    cases["unreadable image"] = (unreadable, str(unreadable / "train" / "class2" / "broken.png"))
    truncated = make_folder(root / "truncated", size=(64, 64))
    path = truncated / "train" / "class1" / "0.jpg"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # passes the header check, fails to decode
    cases["truncated image"] = (truncated, str(path))
    cases["no such folder"] = (root / "nowhere", str(root / "nowhere"))
    return cases


CASES = ["empty folder", "image outside a class folder", "one class", "class folder without images",
         "class missing from val", "unreadable image", "truncated image", "no such folder"]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return _broken_folders(tmp_path_factory.mktemp("broken"))


def _assert_refused(capsys: pytest.CaptureFixture[str], code: int, names: str) -> str:
    assert code == 2
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]
    assert message.startswith("error: ") and names in message, err[-500:]
    assert "Traceback" not in err
    return message


@pytest.mark.parametrize("case", CASES)
def test_bad_folder_is_one_line_naming_the_file(case: str, broken: dict, weights: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder, names = broken[case]
    out = tmp_path / "ckpt"
    _assert_refused(capsys, cli.main(train_args("vpt-shallow", folder, out, weights)), names)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_decoding_error_in_a_worker_is_still_one_line(broken: dict, weights: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder, names = broken["truncated image"]
    code = cli.main(train_args("linear-probe", folder, tmp_path / "ckpt", weights, "--workers", "1"))
    assert "cannot decode image" in _assert_refused(capsys, code, names)


def test_failed_run_leaves_an_existing_checkpoint_untouched(broken: dict, data: Path, weights: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args("vpt-shallow", data, out, weights)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    folder, names = broken["truncated image"]  # fails in the middle of training
    _assert_refused(capsys, cli.main(train_args("vpt-deep", folder, out, weights)), names)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_weights_that_do_not_fit_the_model(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong.safetensors"
    save_file(TinyViT(embed_dim=32, depth=3, num_heads=2).state_dict(), wrong)
    message = _assert_refused(capsys, cli.main(train_args("vpt-deep", data, tmp_path / "o", wrong)), str(wrong))
    assert "does not fit --model tiny-vit" in message and "wrong shape" in message and "missing" in message
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a pickle")
    assert "cannot read as a state dict" in _assert_refused(
        capsys, cli.main(train_args("vpt-deep", data, tmp_path / "o", garbage)), str(garbage))
    assert not (tmp_path / "o").exists()


def test_checkpoint_from_another_method_is_refused(data: Path, weights: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    deep, shallow = tmp_path / "deep", tmp_path / "shallow"
    assert cli.main(train_args("vpt-deep", data, deep, weights)) == 0
    assert cli.main(train_args("vpt-shallow", data, shallow, weights)) == 0
    capsys.readouterr()
    shutil.copy(shallow / "prompt.safetensors", deep / "prompt.safetensors")
    message = _assert_refused(capsys, cli.main(["evaluate", "--checkpoint", str(deep), "--data", str(data)]),
                              str(deep / "prompt.safetensors"))
    assert "vpt-shallow prompt" in message
    # Same method, tensors of another shape (as if config.json were edited): refused by the shapes.
    config = json.loads((shallow / "config.json").read_text())
    config["settings"]["num_tokens"] = 3
    (shallow / "config.json").write_text(json.dumps(config))
    message = _assert_refused(capsys, cli.main(["evaluate", "--checkpoint", str(shallow), "--data", str(data)]),
                              str(shallow / "prompt.safetensors"))
    assert "do not fit" in message


def test_settings_a_method_does_not_take_are_refused(data: Path, weights: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(train_args("pad-prompter", data, tmp_path / "o", weights, "--num-tokens", "5"))
    assert "--num-tokens does not apply to pad-prompter" in _assert_refused(capsys, code, "")
    code = cli.main(train_args("vpt-deep", data, tmp_path / "o", weights, "--batch-size", "0"))
    assert _assert_refused(capsys, code, "--batch-size")


# --- backbones -----------------------------------------------------------------------------------


def test_timm_shaped_vit_loads_without_timm_and_resamples_positions(tmp_path: Path) -> None:
    torch.manual_seed(0)
    vit = TinyViT(img_size=224, patch_size=16, embed_dim=192, depth=12, num_heads=3, num_classes=7,
                  pos_embed_init="trunc_normal")
    path = tmp_path / "vit_tiny.pt"
    torch.save(vit.state_dict(), path)
    backbone = load_backbone("vit_tiny_patch16_224", path)
    assert backbone.image_size == 224 and backbone.module.num_classes == 7
    assert backbone.mean == (0.5, 0.5, 0.5) and backbone.fingerprint == fingerprint(vit.state_dict())
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(backbone.module(x), vit(x))
    small = load_backbone("vit_tiny_patch16_224", path, image_size=64)
    assert small.image_size == 64 and small.module.pos_embed.shape == (1, 1 + 16, 192)
    assert small.fingerprint == backbone.fingerprint  # the file's, before resampling


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_train_and_evaluate_on_cuda_with_amp(data: Path, weights: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args("vpt-deep", data, out, weights, "--device", "cuda", "--amp")) == 0
    trained = capsys.readouterr().out
    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data), "--device", "cuda", "--amp"]) == 0
    assert printed_accuracy(capsys.readouterr().out, "accuracy ") == printed_accuracy(trained, "validation accuracy ")
    assert json.loads((out / "config.json").read_text())["training"]["amp"] is True


def test_bf16_autocast_on_cpu_trains_and_evaluates_alike(data: Path, weights: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ckpt"
    assert cli.main(train_args("vpt-gen-shallow", data, out, weights, "--amp")) == 0
    trained = capsys.readouterr().out
    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data), "--amp"]) == 0
    assert printed_accuracy(capsys.readouterr().out, "accuracy ") == printed_accuracy(trained, "validation accuracy ")
    assert all(t.dtype == torch.float32 for t in load_file(out / "prompt.safetensors").values())


def test_default_backbone_is_the_bundled_pretrained_one(data: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from reference_impls.backbone import pretrained_backbone

    out = tmp_path / "ckpt"
    args = ["train", "linear-probe", "--data", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "6"]
    assert cli.main(args) == 0
    recorded = json.loads((out / "config.json").read_text())["backbone"]
    assert recorded["model"] == "tiny-vit" and recorded["weights"] is None
    assert recorded["fingerprint"] == fingerprint(pretrained_backbone().state_dict())
    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data)]) == 0


def test_moved_weights_file_is_named_with_a_hint(data: Path, weights: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    moved = tmp_path / "moved.safetensors"
    shutil.copy(weights, moved)
    out = tmp_path / "ckpt"
    assert cli.main(train_args("vpt-shallow", data, out, moved)) == 0
    moved.unlink()
    message = _assert_refused(capsys, cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data)]),
                              str(moved))
    assert "pass --weights FILE" in message
    assert cli.main(["evaluate", "--checkpoint", str(out), "--data", str(data), "--weights", str(weights)]) == 0


def test_timm_backbone_when_timm_is_installed(tmp_path: Path) -> None:
    timm = pytest.importorskip("timm", reason="timm is not installed (it needs torchvision)")
    torch.manual_seed(0)
    vit = TinyViT(img_size=224, patch_size=16, embed_dim=192, depth=12, num_heads=3, num_classes=5,
                  pos_embed_init="trunc_normal")
    path = tmp_path / "vit_tiny.safetensors"
    save_file(vit.state_dict(), path)
    backbone = load_backbone("vit_tiny_patch16_224", path)
    assert isinstance(backbone.module, timm.models.vision_transformer.VisionTransformer)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(backbone.module(x), vit(x), rtol=0, atol=1e-5)
