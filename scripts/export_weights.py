"""Turn a finetuning checkpoint into a shipped weights file, with its provenance attached.

    python scripts/export_weights.py runs/digits_pretrain/best.h5 \
        models/weights/resnet18_small_w16_digits04.h5

The output is a plain state dict (``mt.load`` gives name -> tensor, ``resnet18(weights=...)``
loads it) whose root attributes say where it came from: arch, variant, width, num_classes,
class_names, mean/std (what the network was trained on; the trainer normalises finetuning data
with them), val_acc and epoch, the training config (YAML) and the date. Errors print one line
(``error: ...``) and exit with code 2.
"""
import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minitorch.io import load_checkpoint, save_state_dict  # noqa: E402 - needs the path above


def export(checkpoint, output):
    """Write ``checkpoint``'s model as a weights file at ``output``; return its attributes."""
    ckpt = load_checkpoint(checkpoint)
    extra, config = ckpt.get("extra") or {}, ckpt.get("config_dict") or {}
    model = config.get("model", {})
    attrs = {
        "arch": "resnet18", "variant": model.get("variant", "imagenet"),
        "width": int(model.get("width", 64)), "num_classes": int(extra["num_classes"]),
        "class_names": list(extra["class_names"]), "mean": list(extra["mean"]),
        "std": list(extra["std"]), "val_acc": float(extra["best_val_acc"]),
        "epoch": int(ckpt["epoch"]), "config": ckpt["config"],
        "date": datetime.date.today().isoformat(),
        "source": f"minitorch-finetune checkpoint {os.path.basename(checkpoint)} "
                  f"(exported by scripts/export_weights.py)",
    }
    save_state_dict(ckpt["model"], output, attrs=attrs)
    return attrs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="a checkpoint written by minitorch-finetune (best.h5)")
    p.add_argument("output", help="the weights file to write (.h5)")
    args = p.parse_args(argv)
    try:
        attrs = export(args.checkpoint, args.output)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {args.checkpoint}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {attrs['num_classes']} classes {attrs['class_names']}, "
          f"val_acc {attrs['val_acc']:.4f} (epoch {attrs['epoch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
