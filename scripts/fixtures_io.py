"""Make the .pth fixtures of tests/io: files written by torch.save, checked later without torch.

    python scripts/fixtures_io.py   # needs torch==2.13.0 (CPU); minitorch is not used

Writes into tests/fixtures/io/:

* ``resnet18_w4.pth``: ``torch.save`` (zip format) of a width-4 ResNet-18 state dict in
  torchvision's layout, with non-trivial BatchNorm statistics;
* ``legacy_mixed.pth``: the pre-1.6 non-zip format, holding every storage dtype, a transposed
  view, a slice sharing its storage, a Parameter, a 0-d and an empty tensor;
* ``pth_expected.h5``: the arrays torch itself reads back from both (``resnet/<name>``,
  ``legacy/<name>``, bfloat16 widened to float32), plus an input ``x`` and the eval-mode
  ``logits`` of the ResNet on it.
"""
import pathlib
import sys

import h5py

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixtures_resnet import perturb_batchnorm, torch_resnet18  # noqa: E402 - needs the path set above

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "io"


def _legacy_dict(torch, gen):
    base = torch.randn(5, 6, generator=gen)
    return {
        "f32.transposed": base.t(),
        "f32.sliced": base[1:, 2:],
        "f64": torch.randn(3, generator=gen, dtype=torch.float64),
        "f16": torch.randn(4, generator=gen).half(),
        "bf16": torch.randn(4, generator=gen).bfloat16(),
        "i64": torch.arange(-3, 3),
        "i32": torch.arange(4, dtype=torch.int32),
        "i16": torch.arange(4, dtype=torch.int16),
        "i8": torch.arange(-2, 2, dtype=torch.int8),
        "u8": torch.arange(4, dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "param": torch.nn.Parameter(torch.randn(2, 2, generator=gen)),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }


def _numpy(torch, t):
    t = t.detach()
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


def main():
    import torch

    if torch.__version__.split("+")[0] != "2.13.0":
        sys.exit(f"error: fixtures are made with torch 2.13.0, found {torch.__version__}")
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = torch_resnet18(torch, num_classes=5, variant="imagenet", width=4)
    perturb_batchnorm(torch, model, gen)
    model.eval()
    torch.save(model.state_dict(), OUT / "resnet18_w4.pth")
    legacy = _legacy_dict(torch, gen)
    torch.save(legacy, OUT / "legacy_mixed.pth", _use_new_zipfile_serialization=False)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    with h5py.File(OUT / "pth_expected.h5", "w") as f:
        f.attrs["source"] = f"scripts/fixtures_io.py with torch {torch.__version__}"
        for prefix, path in (("resnet", "resnet18_w4.pth"), ("legacy", "legacy_mixed.pth")):
            group = f.create_group(prefix)
            for name, value in torch.load(OUT / path).items():
                group[name] = _numpy(torch, value)  # dotted names stay flat
        f["x"] = x.numpy()
        with torch.no_grad():
            f["logits"] = model(x).numpy()
    for path in sorted(OUT.iterdir()):
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
