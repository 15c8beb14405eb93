"""``minitorch-predict``: the top-k classes of new images, with the file's own eval transform.

    minitorch-predict FILE PATH... [--topk K] [--csv F | --json F] [--tta flip]
                      [--batch-size N] [--skip-bad]

FILE is a checkpoint, a weights file or a .safetensors file that records class names (see
``classifier.py``). PATH is an image file, a folder (searched recursively, sorted) or a list file
(``.txt``/``.lst``: one path per line, relative ones from the list's folder, ``#`` comments).
An image that does not decode is named on stderr, the others are still predicted, and the exit
code is then 2 unless ``--skip-bad``.
"""
import csv
import io
import json
import os
import sys

import numpy as np

from minitorch.data.datasets.image_folder import IMG_EXTENSIONS
from minitorch.data.errors import DataError, DataFileNotFoundError
from minitorch.io.atomic import atomic_write_text
from minitorch.ops import conv as conv_ops

from .classifier import check_topk, load_classifier

__all__ = ["collect_images", "images_under", "predict_paths", "predict_files", "format_table", "to_csv",
           "to_json"]

LIST_EXTENSIONS = (".txt", ".lst")


def images_under(folder):
    """The image files under ``folder``, recursively, sorted (hidden files and folders skipped)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in sorted(files)
                     if f.lower().endswith(IMG_EXTENSIONS) and not f.startswith("."))
    return sorted(found)


def _read_list(path):
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line if os.path.isabs(line) else os.path.join(base, line)
            for line in lines if line and not line.startswith("#")]


def collect_images(paths):
    """Image paths from files, folders (recursive) and list files, in the order given."""
    images = []
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            found = images_under(path)
            if not found:
                raise DataError(f"folder {path} holds no images ({', '.join(IMG_EXTENSIONS)})")
            images.extend(found)
        elif os.path.isfile(path) and path.lower().endswith(LIST_EXTENSIONS):
            listed = _read_list(path)
            if not listed:
                raise DataError(f"list file {path} names no images")
            images.extend(listed)
        elif os.path.isfile(path):
            images.append(path)   # any other file is taken as an image: decoding will tell
        else:
            raise DataFileNotFoundError(f"no such image, folder or list file: {path}")
    return images


def predict_paths(clf, paths, batch_size=32, tta=None, on_bad=None, progress=None):
    """Yield (path, probabilities) for each path that decodes, ``batch_size`` images per forward.

    A path that does not decode goes to ``on_bad(path, error)`` (default: raise)."""
    for start in range(0, len(paths), batch_size):
        chunk, inputs, good = paths[start:start + batch_size], [], []
        for path in chunk:
            try:
                inputs.append(clf.transform(path))
                good.append(path)
            except DataError as error:
                if on_bad is None:
                    raise
                on_bad(path, error)
        if inputs:
            yield from zip(good, clf.probabilities(np.stack(inputs), tta))
        if progress is not None:
            progress.update(len(chunk))


def predict_files(clf, paths, topk=5, batch_size=32, tta=None, on_bad=None, progress=None):
    """[(path, [(class, probability), ...]), ...] for the images that decode."""
    k = check_topk(topk, len(clf.class_names))
    return [(path, clf.top(probs[None], k)[0])
            for path, probs in predict_paths(clf, paths, batch_size, tta, on_bad, progress)]


def format_table(results):
    """Aligned text: one row per image, its top-k as ``class probability`` columns."""
    if not results:
        return "no images predicted"
    k = max(len(top) for _, top in results)
    cells = [[path] + [f"{name} {p:.4f}" for name, p in top] for path, top in results]
    header = ["image"] + [f"top-{i + 1}" for i in range(k)]
    widths = [max(len(row[i]) for row in [header] + cells if i < len(row))
              for i in range(k + 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header] + cells]
    return "\n".join(lines)


def to_csv(results):
    k = max((len(top) for _, top in results), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path"] + [f"{kind}{i + 1}" for i in range(k) for kind in ("class", "prob")])
    for path, top in results:
        writer.writerow([path] + [v for name, p in top for v in (name, f"{p:.6g}")])
    return buf.getvalue()


def to_json(results):
    return json.dumps([{"path": path, "predictions": [{"class": name, "probability": p}
                                                       for name, p in top]}
                       for path, top in results], indent=1) + "\n"


def run_predict(args, out=None, err=None):
    """The CLI's work on parsed ``args``; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    clf = load_classifier(args.file)
    check_topk(args.topk, len(clf.class_names))
    paths = collect_images(args.paths)
    from minitorch import runtime  # after the input checks: a typo compiles nothing
    runtime.compile_if_cold(model=clf.model, image_size=clf.transform.image_size,
                            inference=True, file=err)
    bad = []
    from tqdm import tqdm   # to stderr, and off when stderr is not a terminal
    with tqdm(total=len(paths), desc="predict", unit="img", file=err, disable=None,
              leave=False) as bar:
        # each image's forward runs once (ops.conv.forward_once: half the compiling, bitwise
        # the same numbers)
        with conv_ops.forward_once():
            results = predict_files(clf, paths, args.topk, args.batch_size, args.tta,
                                    on_bad=lambda path, error: bad.append(str(error)),
                                    progress=bar)
    if args.csv or args.json:
        target, text = (args.csv, to_csv(results)) if args.csv else (args.json, to_json(results))
        atomic_write_text(target, text)
        print(f"{len(results)} predictions written to {target}", file=out)
    else:
        print(format_table(results), file=out, flush=True)
    for line in bad:
        print(f"{'warning: skipped' if args.skip_bad else 'error:'} {line}", file=err)
    return 2 if bad and not args.skip_bad else 0
