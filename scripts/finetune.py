"""Same as ``minitorch-finetune``: finetune a ResNet-18 from a YAML config.

    python scripts/finetune.py configs/digits_finetune.yaml [--set key.path=value ...] \
        [--resume auto|PATH]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minitorch.train.cli import finetune_main  # noqa: E402 - needs the path set above

if __name__ == "__main__":
    sys.exit(finetune_main())
