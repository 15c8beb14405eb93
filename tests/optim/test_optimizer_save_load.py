"""Optimizer and scheduler state through an HDF5 file (``mt.save``/``mt.load``): resume mid-run
and continue bitwise like the run that never stopped."""
import numpy as np
import pytest

import minitorch as mt

from optim_cases import SCHED_CASES, SGD_CASES, build_scheduler, build_sgd, make_inputs, run_sgd


@pytest.mark.parametrize("name", ["nesterov_weight_decay", "two_groups"])
def test_optimizer_state_saved_to_file_resumes_bitwise(tmp_path, name):
    case = SGD_CASES[name]
    init, grads = make_inputs(11)
    full_params, full_opt, _ = run_sgd(mt, case, init, grads, steps=50)

    params, opt, _ = run_sgd(mt, case, init, grads, steps=20)
    mt.save(opt.state_dict(), tmp_path / "optimizer.h5")
    mt.save({str(i): p.detach() for i, p in enumerate(params)}, tmp_path / "params.h5")
    del params, opt

    saved = mt.load(tmp_path / "params.h5")
    fresh = [mt.tensor(saved[str(i)].numpy(), requires_grad=True) for i in range(len(init))]
    fresh_opt = build_sgd(mt, fresh, case)
    fresh_opt.load_state_dict(mt.load(tmp_path / "optimizer.h5"))
    run_sgd(mt, case, init, grads, steps=30, optimizer=fresh_opt, params=fresh, start=20)

    for p, q in zip(fresh, full_params):
        assert p.detach().numpy().tobytes() == q.detach().numpy().tobytes()
    for p, q in zip(fresh, full_params):
        a = fresh_opt.state[p]["momentum_buffer"].numpy()
        b = full_opt.state[q]["momentum_buffer"].numpy()
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", ["warmup_cosine", "multistep", "cosine"])
def test_scheduler_state_saved_to_file_resumes_the_same_lrs(tmp_path, name):
    def fresh():
        p = mt.tensor(np.zeros(2), requires_grad=True)
        opt = mt.optim.SGD([p], lr=0.1, momentum=0.9)
        return opt, build_scheduler(mt, opt, SCHED_CASES[name])

    opt, sched = fresh()
    lrs = []
    for epoch in range(1, 26):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        if epoch == 9:
            mt.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
                    tmp_path / "ckpt.h5")
    opt2, sched2 = fresh()
    state = mt.load(tmp_path / "ckpt.h5")
    opt2.load_state_dict(state["optimizer"])
    sched2.load_state_dict(state["scheduler"])
    resumed = []
    for _ in range(10, 26):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == lrs[9:]
