"""``LBFGS``: limited-memory BFGS, ``torch.optim.LBFGS``'s algorithm and state.

Each ``step(closure)`` runs up to ``max_iter`` iterations: the direction comes from the classic
two-loop recursion over the last ``history_size`` (step, gradient change) pairs, scaled by
``H_diag = y.s / y.y``; the first iteration of a run tries a step of ``min(1, 1 / |g|_1) * lr``,
later ones ``lr``. Without a line search that step is taken as it is; with
``line_search_fn="strong_wolfe"`` it is the starting guess of the strong-Wolfe search in
``_line_search.py``, which may evaluate the closure several times (up to what ``max_eval``
leaves) and hands back the step, loss and gradient it chose. It stops on a small gradient
(``tolerance_grad``), a small change of the loss or of the parameters (``tolerance_change``), or
``max_eval`` closure calls. The vectors are float tensors of the parameters' dtype, the scalars
0-d tensors where PyTorch keeps them as tensors, so a run follows PyTorch's numbers to float32
rounding. All parameters are treated as one flat vector (one param group only, as PyTorch).

Not there: complex and sparse parameters; another ``line_search_fn`` is refused by ``step``
with torch's ``RuntimeError``.
"""
import numpy as np

from minitorch.autograd.grad_mode import enable_grad, no_grad
from minitorch.tensor import Tensor

from ._fused import check_hyper
from ._line_search import strong_wolfe
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
            _add_scaled_(p, update._data[offset:offset + n].reshape(p._data.shape), step_size)
            offset += n

    def _directional_evaluate(self, evaluate, x, t, d):
        """The loss and flat gradient at ``x + t d``; the parameters are put back to ``x``
        (copied, not stepped back, so no rounding creeps in)."""
        self._add_grad(t, d)
        loss = float(evaluate())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, flat_grad

    def _line_search(self, evaluate, t, d, loss, flat_grad, gtd, max_ls):
        """The strong-Wolfe search along ``d`` from the current parameters, which it leaves
        unchanged; ``(loss, flat_grad, t, evaluations)`` at the step it chose."""
        x = [p.clone() for p in self._params]

        def obj_func(x, t, d):
            return self._directional_evaluate(evaluate, x, t, d)
        return strong_wolfe(obj_func, x, t, d, loss, flat_grad, gtd, max_ls=max_ls)

    @no_grad()
    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]

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
            if line_search_fn is not None:
                # torch checks the name only here, after the step's first evaluation
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                loss, flat_grad, t, ls_func_evals = self._line_search(
                    evaluate, t, d, loss, flat_grad, gtd, max_eval - current_evals)
                self._add_grad(t, d)
            else:
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
        _add_scaled_(q, old_dirs[i]._data, -al[i])
    r = q.mul(H_diag)
    for i in range(len(old_dirs)):
        be_i = old_dirs[i].dot(r) * ro[i]
        _add_scaled_(r, old_stps[i]._data, al[i] - be_i)
    return r


def _add_scaled_(target: Tensor, other: np.ndarray, alpha) -> None:
    """``target += alpha * other`` rounded once, as torch's CPU ``add_(other, alpha=alpha)``
    does it (a fused multiply-add, ``alpha`` first rounded to the dtype). Rounding twice, as a
    multiply then an add would, moves float32 iterates by an ulp an update, which Rosenbrock-like
    valleys amplify. A float32 product is exact in float64, so the float64 sum rounded to float32
    is the fused result but for rare double-rounding ties; float64 parameters keep the plain
    update (their second rounding is far below any tolerance)."""
    if target._data.dtype != np.float32:
        target.add_(Tensor._new(other.reshape(target._data.shape)), alpha=alpha)
        return
    wide = target._data.astype(np.float64)
    wide += np.float64(np.float32(float(alpha))) * other.astype(np.float64)
    target.copy_(Tensor._new(wide.astype(np.float32)))
