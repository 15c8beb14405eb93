"""``LBFGS``: limited-memory BFGS with a fixed step, ``torch.optim.LBFGS``'s algorithm and state.

Each ``step(closure)`` runs up to ``max_iter`` iterations: the direction comes from the classic
two-loop recursion over the last ``history_size`` (step, gradient change) pairs, scaled by
``H_diag = y.s / y.y``; the first iteration of a run takes a gradient step of
``min(1, 1 / |g|_1) * lr``, later ones ``lr``. It stops on a small gradient
(``tolerance_grad``), a small change of the loss or of the parameters (``tolerance_change``), or
``max_eval`` closure calls. The vectors are float tensors of the parameters' dtype, the scalars
0-d tensors where PyTorch keeps them as tensors, so a run follows PyTorch's numbers to float32
rounding. All parameters are treated as one flat vector (one param group only, as PyTorch).

Not there: ``line_search_fn="strong_wolfe"`` (a clear error at construction).
"""
import numpy as np

from minitorch.autograd.grad_mode import enable_grad, no_grad
from minitorch.tensor import Tensor

from ._fused import check_hyper
from .optimizer import Optimizer

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """Implements L-BFGS, like ``torch.optim.LBFGS``.

    Args: ``params``, ``lr`` (1), ``max_iter`` (20: iterations per ``step``), ``max_eval``
    (closure calls per ``step``; default ``max_iter * 5 // 4``), ``tolerance_grad`` (1e-7),
    ``tolerance_change`` (1e-9), ``history_size`` (100), ``line_search_fn`` (None only).
    ``step(closure)`` needs a closure that clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; it returns the first loss of the step.
    State (on the first parameter, as PyTorch): ``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``al``.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_hyper("learning rate", lr)
        if line_search_fn is not None:
            raise ValueError(f"LBFGS(line_search_fn={line_search_fn!r}) is not supported by "
                             f"minitorch: only the fixed step (line_search_fn=None) is there")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _gather_flat_grad(self) -> Tensor:
        parts = [np.zeros(p._data.size, p._data.dtype) if p.grad is None
                 else p.grad._data.reshape(-1) for p in self._params]
        return Tensor._new(np.concatenate(parts))

    def _add_grad(self, step_size, update: Tensor) -> None:
        """``params += step_size * update`` (the flat vector cut back into the parameters)."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p.add_(update[offset:offset + n].view_as(p), alpha=step_size)
            offset += n

    @no_grad()
    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if flat_grad.abs().max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:   # curvature condition: keep the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, state["al"])
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)   # the directional derivative
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            self._add_grad(t, d)
            if n_iter != max_iter:
                # no evaluation after the last iteration: the next step starts with one
                loss = float(evaluate())
                flat_grad = self._gather_flat_grad()
                ls_func_evals = 1
            opt_cond = flat_grad.abs().max() <= tolerance_grad
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change:   # no progress in the parameters
                break
            if abs(loss - prev_loss) < tolerance_change:     # nor in the loss
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


def _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al):
    """The L-BFGS direction ``-H g`` by the two-loop recursion, in one buffer (``al`` is
    written: the first loop's coefficients)."""
    q = flat_grad.neg()
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q.add_(old_dirs[i], alpha=-al[i])
    r = q.mul(H_diag)
    for i in range(len(old_dirs)):
        be_i = old_dirs[i].dot(r) * ro[i]
        r.add_(old_stps[i], alpha=al[i] - be_i)
    return r
