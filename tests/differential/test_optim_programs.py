"""Random optimizer and scheduler programs (programs_optim.py), each run in torch and in
minitorch: parameters, lrs, hyperparameters and both state dicts after every step must agree in
float64 to 1e-9, and the same lines must raise. Plus the out-of-range hyperparameters, one by one.

A failing chunk lists every divergent program whole; ``python scripts/difftest.py --families
optim --seed S --programs 1`` reruns one.
"""
import collections

import pytest

from .programs_optim import diff_optim, generate_optim, run_optim

torch = pytest.importorskip("torch")

import minitorch  # noqa: E402

CHUNKS = 3
PER_CHUNK = 100


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_optimizer_programs_agree_with_torch(chunk):
    report = []
    for seed in range(chunk * PER_CHUNK, (chunk + 1) * PER_CHUNK):
        lines = generate_optim(seed)
        diffs = diff_optim(lines)
        if diffs:
            report.append(f"# seed {seed}\n" + "\n".join(lines) + "\n# differs:\n#   "
                          + "\n#   ".join(diffs))
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)


def test_the_generator_covers_every_optimizer_scheduler_and_event():
    """So the chunks above cannot pass by testing less: over 150 programs every optimizer and
    scheduler is built, resumes and add_param_group happen, and most programs really step."""
    seen = collections.Counter()
    stepped = 0
    for seed in range(150):
        lines = generate_optim(seed)
        text = "\n".join(lines)
        for line in lines:
            if line.startswith(("opt = lib.optim.", "sched = lib.optim.lr_scheduler.")):
                seen[line.split("(")[0].rsplit(".", 1)[-1]] += 1
        seen["resume"] += "opt.load_state_dict(sd)" in text
        seen["add_param_group"] += "add_param_group" in text
        seen["zero_grad to zeros"] += "set_to_none=False" in text
        errors, trace = run_optim(torch, lines)
        stepped += len(trace) > 2 and not any("step()" in lines[i] for i in errors)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "StepLR",
                 "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
                 "CosineAnnealingWarmRestarts", "PolynomialLR", "LinearLR", "ReduceLROnPlateau",
                 "LambdaLR", "resume", "add_param_group", "zero_grad to zeros"):
        assert seen[name] >= 3, (name, seen)
    assert stepped >= 100, stepped


# (optimizer, bad keyword arguments, a word both messages must contain: the culprit)
OUT_OF_RANGE = [
    ("SGD", {"lr": -0.1}, "-0.1"), ("SGD", {"lr": 0.1, "momentum": -0.5}, "-0.5"),
    ("SGD", {"lr": 0.1, "weight_decay": -1.0}, "-1.0"), ("SGD", {"lr": 0.1, "nesterov": True},
                                                         "nesterov"),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "dampening"),
    ("Adam", {"lr": -0.01}, "-0.01"), ("Adam", {"eps": -1e-8}, "epsilon"),
    ("Adam", {"betas": (1.0, 0.9)}, "index 0"), ("Adam", {"betas": (0.9, -0.1)}, "index 1"),
    ("AdamW", {"betas": (0.9, 1.0)}, "index 1"), ("AdamW", {"weight_decay": -0.1}, "weight_decay"),
    ("RMSprop", {"alpha": -0.5}, "alpha"), ("RMSprop", {"eps": -1.0}, "epsilon"),
    ("RMSprop", {"momentum": -0.1}, "momentum"), ("Adagrad", {"lr_decay": -0.5}, "lr_decay"),
    ("Adagrad", {"initial_accumulator_value": -0.2}, "initial_accumulator_value"),
    ("Adagrad", {"eps": -1e-3}, "epsilon"), ("Adadelta", {"rho": 1.5}, "rho"),
    ("Adadelta", {"rho": -0.1}, "rho"), ("Adadelta", {"lr": -1.0}, "-1.0"),
]


@pytest.mark.parametrize("name,kwargs,word", OUT_OF_RANGE,
                         ids=[f"{n}-{sorted(k)[-1]}" for n, k, _ in OUT_OF_RANGE])
def test_out_of_range_hyperparameter_is_torchs_value_error(name, kwargs, word):
    messages = []
    for lib in (torch, minitorch):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(ValueError) as info:
            getattr(lib.optim, name)([p], **kwargs)
        messages.append(str(info.value))
    assert all(word.lower() in m.lower() for m in messages), messages
    assert "\n" not in messages[1]


def test_resume_after_a_schedule_drove_lr_below_zero():
    """Seed 1002: OneCycleLR (three phases, linear, a first phase shorter than a step) takes lr
    below 0; PyTorch's load_state_dict takes the group as it is, so must minitorch's."""
    lines = generate_optim(1002)
    assert "opt.load_state_dict(sd)" in lines
    _, trace = run_optim(torch, lines)
    assert min(min(s["lrs"]) for s in trace if "lrs" in s) < 0
    assert diff_optim(lines) == []


@pytest.mark.parametrize("lib", [torch, minitorch], ids=["torch", "minitorch"])
def test_load_state_dict_takes_out_of_range_values_a_schedule_made(lib):
    """Seed 22224: OneCycleLR's cycled beta1 above 1; PyTorch loads it (and a negative lr)."""
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.Adam([p], lr=0.01)
    sd = opt.state_dict()
    sd["param_groups"][0].update(lr=-0.002, betas=(1.0147, 0.99))
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == -0.002
    assert tuple(opt.param_groups[0]["betas"]) == (1.0147, 0.99)


def test_load_state_dict_refuses_a_hyperparameter_that_is_no_number():
    p = minitorch.tensor([1.0, 2.0], requires_grad=True)
    opt = minitorch.optim.SGD([p], lr=0.01, momentum=0.9)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = "fast"
    with pytest.raises(ValueError, match="lr must be a number, got 'fast'"):
        opt.load_state_dict(sd)
