"""Same as ``minitorch-evaluate``: accuracy, loss and confusion matrix of a checkpoint.

    python scripts/evaluate.py runs/digits_finetune/best.h5 [--config CONFIG.yaml]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minitorch.train.cli import evaluate_main  # noqa: E402 - needs the path set above

if __name__ == "__main__":
    sys.exit(evaluate_main())
