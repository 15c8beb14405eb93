"""minitorch-warmup: kernels compile in two processes first, then a tiny step covers the rest."""
import re

import minitorch.kernels as kernels
import minitorch.optim.sgd as sgd_module
from minitorch.train.cli import warmup_main


def test_warmup_compiles_in_two_processes_then_runs_the_model_step(monkeypatch, capsys):
    events = []
    real_warmup = kernels.warmup
    real_update = sgd_module._update_param_

    def warmup(processes):
        events.append(("kernels", processes))
        real_warmup(processes=1)  # in-process here: the test checks the call, not the workers

    def update(p, *args):
        events.append(("sgd", p.detach().numpy().size >= sgd_module.SERIAL_BELOW))
        return real_update(p, *args)

    monkeypatch.setattr(kernels, "warmup", warmup)
    monkeypatch.setattr(sgd_module, "_update_param_", update)
    assert warmup_main([]) == 0
    assert events[0] == ("kernels", 2)
    # the step reaches both SGD kernels, so neither compiles during the first real step
    assert {e for e in events[1:]} == {("sgd", False), ("sgd", True)}
    line = capsys.readouterr().out
    assert re.match(r"warmup: numba kernels ready in \d+\.\d s \(kernels \d+\.\d s in 2 processes, "
                    r"model step \d+\.\d s; cache: ", line), line
