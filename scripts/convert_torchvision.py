"""Convert a torchvision .pth state dict into a minitorch HDF5 weights file, without torch.

    python scripts/convert_torchvision.py resnet18-f37072fd.pth \
        ~/.cache/minitorch/weights/resnet18.h5

The .pth is read with a restricted unpickler: only tensors and dicts are accepted. The folder of
the output is created when it does not exist yet (``~`` is expanded). Errors print one line
(``error: ...``) on stderr and exit with code 2.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minitorch.io.torchvision import convert_torchvision  # noqa: E402 - needs the path set above


def _parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="a PyTorch .pth/.pt file holding a state dict")
    p.add_argument("output", help="the HDF5 weights file to write (replaced atomically)")
    p.add_argument("--arch", default="resnet18",
                   help="check the keys against this architecture (default resnet18); "
                        "'none' converts any state dict")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    arch = None if args.arch.lower() == "none" else args.arch
    output = os.path.expanduser(args.output)
    try:
        folder = os.path.dirname(os.path.abspath(output))
        if os.path.isfile(args.input) and not os.path.isdir(folder):
            os.makedirs(folder)   # the usual target, ~/.cache/minitorch/weights, is new
        attrs = convert_torchvision(args.input, output, arch=arch)
    except (OSError, ValueError) as e:  # every io error is one of these, with a one-line message
        print(f"error: {e}", file=sys.stderr)
        return 2
    described = f"arch {attrs['arch']}, {attrs['num_classes']} classes" if arch else "no arch check"
    print(f"wrote {output} from {attrs['source']} ({described})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
