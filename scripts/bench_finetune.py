"""The finetuning job of scripts/benchmark.py: minitorch's cached frozen prefix against PyTorch's
usual loop (issue 14).

    python scripts/bench_finetune.py                 # both frameworks, 5 epochs
    python scripts/bench_finetune.py --no-torch      # minitorch only
    python scripts/benchmark.py --workloads f        # the same, from the benchmark driver

The job: ResNet-18 (torchvision layout, the imagenet stem, width 64, identical random weights in
both frameworks) at 224x224 on an image folder of ``--photos`` synthetic photos generated into a
temporary folder (four classes of coloured shapes on gradients, 256-320 px JPEGs; nothing is
downloaded), ``layer4`` and ``fc`` trainable (conv1..layer3 frozen, BatchNorm in eval there),
horizontal flip, batch 16, SGD (lr 0.01, momentum 0.9), 20% held out for validation, 5 epochs.

- minitorch: ``minitorch-finetune`` on that folder (the image-folder template's path: flip on,
  cache on), i.e. the Trainer with the frozen prefix computed once per (photo, view).
- PyTorch: its own loop the usual way: a Dataset decoding each JPEG with PIL, resize 224 +
  center crop + flip + normalise (validation: resize 256 + center crop 224), a DataLoader (shuffle, batch 16, main process), the frozen
  layers recomputed in every epoch, the frozen part in eval mode, then validation.

Each framework runs alone in its own process, one after the other; the machine's load is
printed with the figures. Targets: total time <= 0.6 of PyTorch's, epochs 3-5 each <= 0.4.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]
PREFIX = "@@"
FROZEN = ["conv1", "bn1", "layer1", "layer2", "layer3"]
CLASSES = ("circles", "squares", "stripes", "rings")
TARGETS = {"total": 0.6, "epoch": 0.4}

__all__ = ["make_photos", "run_minitorch", "run_torch", "finetune_job", "job", "format_job"]


def make_photos(root, count=120, seed=0):
    """``count`` synthetic JPEG photos in root/<class>/, sizes 256-320 px; returns root."""
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(seed)
    root = Path(root)
    for i in range(count):
        label = i % len(CLASSES)
        w, h = int(rng.integers(256, 321)), int(rng.integers(256, 321))
        base = np.linspace(0, 1, w)[None, :, None] * rng.random(3) * 255
        pixels = np.broadcast_to(base, (h, w, 3)) + rng.normal(0, 12, (h, w, 3))
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(img)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        for _ in range(4):
            x, y, r = int(rng.integers(30, w - 30)), int(rng.integers(30, h - 30)), \
                int(rng.integers(12, 40))
            box = (x - r, y - r, x + r, y + r)
            if label == 0:
                draw.ellipse(box, fill=colour)
            elif label == 1:
                draw.rectangle(box, fill=colour)
            elif label == 2:
                draw.line((x - r, y, x + r, y), fill=colour, width=8)
            else:
                draw.ellipse(box, outline=colour, width=6)
        (root / CLASSES[label]).mkdir(parents=True, exist_ok=True)
        img.save(root / CLASSES[label] / f"{i:04d}.jpg", quality=90)
    return root


def _weights(path):
    """Random ResNet-18 weights in minitorch's weights layout (both frameworks load them)."""
    import minitorch as mt
    from minitorch.io import save_state_dict
    from models import resnet18
    mt.manual_seed(0)
    model = resnet18(num_classes=1000)
    save_state_dict(model.state_dict(), path, attrs={"arch": "resnet18", "num_classes": 1000})
    return path


def run_minitorch(photos, weights, out, epochs, threads):
    """{total, epochs: [seconds]} of the finetuning CLI's Trainer on the photos."""
    import minitorch as mt
    from minitorch.train.config import config_from_dict
    from minitorch.train.trainer import Trainer
    mt.runtime.configure(threads)
    config = config_from_dict({
        "seed": 0,
        "model": {"arch": "resnet18", "variant": "imagenet", "width": 64,
                  "weights": str(weights), "num_classes": None, "freeze": FROZEN},
        "data": {"dataset": "image_folder", "root": str(photos), "image_size": 224,
                 "val_fraction": 0.2, "batch_size": 16,
                 "augment": {"horizontal_flip": True}},
        "train": {"epochs": epochs, "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
                  "scheduler": {"name": "none"}, "feature_cache": "auto"},
        "output": {"dir": str(out), "plot": False}})
    epoch_times, write_times = [], []
    start = time.perf_counter()
    trainer = Trainer(config, out=open(os.devnull, "w"))
    hooks = {name: getattr(trainer, name) for name in ("_on_epoch_start", "_on_epoch_end",
                                                       "_end_epoch")}

    # An epoch's time is its training and validation, from its first hook to its last, as
    # PyTorch's below; the checkpoint and metrics writes after it (PyTorch's loop writes
    # nothing) are timed apart, and the total holds everything.
    def epoch_start(epoch):
        clock["start"] = time.perf_counter()
        hooks["_on_epoch_start"](epoch)

    def epoch_end(epoch, record):
        epoch_times.append(time.perf_counter() - clock["start"])
        hooks["_on_epoch_end"](epoch, record)

    def end_epoch(record):
        t0 = time.perf_counter()
        hooks["_end_epoch"](record)
        write_times.append(time.perf_counter() - t0)

    clock = {}
    trainer._on_epoch_start, trainer._on_epoch_end = epoch_start, epoch_end
    trainer._end_epoch = end_epoch
    trainer.fit()
    return {"total": time.perf_counter() - start, "epochs": epoch_times,
            "writes": write_times, "val_acc": trainer.history[-1]["val_acc"]}


def run_torch(photos, weights, epochs, threads):
    """{total, epochs} of the same job in PyTorch's usual loop."""
    import torch
    from PIL import Image
    from fixtures_resnet import torch_resnet18
    import minitorch as mt
    from minitorch.data.split import stratified_split
    torch.set_num_threads(threads)
    start = time.perf_counter()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    samples = [(str(p), CLASSES.index(p.parent.name)) for p in sorted(Path(photos).rglob("*.jpg"))]

    class Photos(torch.utils.data.Dataset):
        """Resize the shorter side to ``resize``, centre-crop 224 (validation: torchvision's
        Resize(256) + CenterCrop(224), as minitorch's default data.eval_resize)."""

        def __init__(self, items, flip, resize):
            self.items, self.flip, self.resize = items, flip, resize

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            path, label = self.items[i]
            with Image.open(path) as img:
                img = img.convert("RGB")
            w, h = img.size
            s = self.resize / min(w, h)
            img = img.resize((max(self.resize, round(w * s)), max(self.resize, round(h * s))),
                             Image.BILINEAR)
            left, top = (img.width - 224) // 2, (img.height - 224) // 2
            x = torch.from_numpy(np.asarray(img.crop((left, top, left + 224, top + 224)),
                                            dtype=np.float32) / 255).permute(2, 0, 1)
            if self.flip and torch.rand(1).item() < 0.5:
                x = x.flip(-1)
            return (x - mean) / std, label

    targets = np.array([t for _, t in samples])
    train_idx, val_idx = stratified_split(targets, 0.2, 0)
    train_set = Photos([samples[i] for i in train_idx], flip=True, resize=224)
    val_set = Photos([samples[i] for i in val_idx], flip=False, resize=256)
    torch.manual_seed(0)
    model = torch_resnet18(torch, num_classes=len(CLASSES))
    state = {k: torch.from_numpy(v.numpy()) for k, v in mt.load(str(weights)).items()
             if not k.startswith("fc.")}
    model.load_state_dict(state, strict=False)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(("layer4.", "fc.")))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                          momentum=0.9)
    loader = torch.utils.data.DataLoader(train_set, batch_size=16, shuffle=True)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=16)
    epoch_times, acc = [], None
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for name in FROZEN:
            getattr(model, name).eval()   # frozen BatchNorm: running statistics
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in val_loader:
                correct += int((model(x).argmax(1) == y).sum())
        acc = correct / len(val_set)
        epoch_times.append(time.perf_counter() - t0)
    return {"total": time.perf_counter() - start, "epochs": epoch_times, "val_acc": acc}


def _child(args):
    photos, weights = Path(args.photos), Path(args.weights)
    if args.run == "torch":
        result = run_torch(photos, weights, args.epochs, args.threads)
    else:
        with tempfile.TemporaryDirectory() as out:
            result = run_minitorch(photos, weights, Path(out) / "run", args.epochs,
                                   args.threads)
    print(PREFIX + json.dumps(result), flush=True)


def _process(framework, photos, weights, epochs, threads):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", framework, "--photos",
           str(photos), "--weights", str(weights), "--epochs", str(epochs), "--threads",
           str(threads)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the {framework} finetuning run exited with code "
                           f"{proc.returncode} (its traceback is above)")
    return dict(json.loads(lines[-1][len(PREFIX):]), load=[load, os.getloadavg()[0]])


def finetune_job(photos=120, epochs=5, threads=2, use_torch=True):
    """Both frameworks' figures and the ratios (the benchmark driver's entry point)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = make_photos(Path(tmp) / "photos", photos)
        weights = _weights(Path(tmp) / "weights.h5")
        result = {"minitorch": _process("minitorch", root, weights, epochs, threads)}
        if use_torch:
            result["torch"] = _process("torch", root, weights, epochs, threads)
    if use_torch:
        m, t = result["minitorch"], result["torch"]
        result["total_ratio"] = m["total"] / t["total"]
        result["epoch_ratios"] = [a / b for a, b in zip(m["epochs"], t["epochs"])]
    return result


def job(threads=2, use_torch=True):
    """The benchmark driver's entry (``scripts/benchmark.py --workloads f``)."""
    return finetune_job(120, 5, threads, use_torch)


def format_job(result):
    lines = ["finetune: ResNet-18 @224, layer4+fc trainable, flip, 5 epochs, batch 16"]
    for name in ("minitorch", "torch"):
        if name in result:
            r = result[name]
            epochs = " ".join(f"{s:.1f}" for s in r["epochs"])
            writes = f" (+ checkpoint writes {sum(r['writes']):.1f} s)" if "writes" in r else ""
            lines.append(f"  {name:9s} total {r['total']:.1f} s; epochs {epochs} s{writes}; "
                         f"load {r['load'][0]:.1f}-{r['load'][1]:.1f}")
    if "total_ratio" in result:
        ratios = result["epoch_ratios"]
        late = " ".join(f"{r:.2f}" for r in ratios[2:5])
        ok = result["total_ratio"] <= TARGETS["total"] and all(
            r <= TARGETS["epoch"] for r in ratios[2:5])
        lines.append(f"  ratio minitorch/PyTorch: total {result['total_ratio']:.2f} "
                     f"(target <= {TARGETS['total']}), epochs 3-5 {late} (target <= "
                     f"{TARGETS['epoch']} each): {'met' if ok else 'NOT met'}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", default="120")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    p.add_argument("--run", choices=("minitorch", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run:
        return _child(args)
    result = finetune_job(int(args.photos), args.epochs, args.threads, not args.no_torch)
    print(format_job(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
