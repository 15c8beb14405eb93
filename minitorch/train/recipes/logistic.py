"""Multinomial logistic regression with an L2 penalty, solved by L-BFGS in numpy (float64).

    W, b = fit_logistic(X, y, num_classes, C)

minimises scikit-learn's objective for ``LogisticRegression(C=C)`` (multinomial, intercept not
penalised): ``C * sum_i CE(x_i W^T + b, y_i) + |W|^2 / 2``. It is strictly convex in W, so the
solution is unique up to one constant added to every intercept (softmax does not see it); the
intercepts are returned centred to sum 0. ``cross_validate_C`` picks C by stratified k-fold
cross-validation (mean held-out log-loss).
"""
import numpy as np

__all__ = ["fit_logistic", "cross_validate_C", "stratified_folds", "log_loss"]


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def log_loss(X, y, W, b):
    """Mean cross-entropy of the rows of X under (W, b)."""
    logp = _log_softmax(X @ W.T + b)
    return float(-logp[np.arange(len(y)), y].mean())


def _objective(theta, X, Y, C, shape):
    """(f, grad) of the objective divided by C*n (the same minimiser, better scaled)."""
    K, F = shape
    W, b = theta[:K * F].reshape(K, F), theta[K * F:]
    n = X.shape[0]
    logp = _log_softmax(X @ W.T + b)
    P = np.exp(logp)
    f = -(logp * Y).sum() / n + 0.5 * (W * W).sum() / (C * n)
    D = (P - Y) / n
    gW = D.T @ X + W / (C * n)
    return f, np.concatenate([gW.ravel(), D.sum(axis=0)])


def _lbfgs(fun, theta, max_iter, tol, memory=10):
    """Minimise ``fun`` (returning (f, grad)) from ``theta``: L-BFGS two-loop recursion with a
    backtracking Armijo line search; stops when the largest gradient entry is below ``tol``."""
    f, g = fun(theta)
    s_list, y_list = [], []
    for _ in range(max_iter):
        if np.abs(g).max() < tol:
            break
        q = g.copy()
        alphas = []
        for s, y in zip(reversed(s_list), reversed(y_list)):
            a = s @ q / (y @ s)
            alphas.append(a)
            q -= a * y
        if s_list:
            q *= (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1])
        for (s, y), a in zip(zip(s_list, y_list), reversed(alphas)):
            q += s * (a - y @ q / (y @ s))
        direction = -q
        slope = g @ direction
        if slope >= 0:   # not a descent direction (rounding): restart from the gradient
            s_list, y_list, direction, slope = [], [], -g, -(g @ g)
        step = 1.0
        while True:
            new = theta + step * direction
            f_new, g_new = fun(new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = new - theta, g_new - g
        if s @ y > 1e-12 * (y @ y):
            s_list.append(s)
            y_list.append(y)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        if f - f_new <= 1e-15 * max(1.0, abs(f)) and step < 1e-12:
            break
        theta, f, g = new, f_new, g_new
    return theta


def fit_logistic(X, y, num_classes, C, init=None, max_iter=2000, tol=1e-9):
    """(W (K, F), b (K,)) minimising the objective of the module docstring, float64."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    K, F = num_classes, X.shape[1]
    Y = np.zeros((X.shape[0], K))
    Y[np.arange(len(y)), y] = 1.0
    theta = np.zeros(K * F + K) if init is None else np.concatenate(
        [init[0].ravel(), init[1]]).astype(np.float64)
    theta = _lbfgs(lambda t: _objective(t, X, Y, float(C), (K, F)), theta, max_iter, tol)
    W, b = theta[:K * F].reshape(K, F), theta[K * F:]
    return W, b - b.mean()


def stratified_folds(y, k, seed):
    """Fold index (0..k-1) of every sample: each class shuffled by ``seed``, dealt round-robin."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=np.int64)
    offset = 0
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rng.shuffle(members)
        folds[members] = (np.arange(len(members)) + offset) % k
        offset += len(members)   # classes continue where the previous left off: even folds
    return folds


def cross_validate_C(X, y, num_classes, Cs, k, seed):
    """(best C, {C: mean held-out log-loss}); the smallest C wins a tie."""
    folds = stratified_folds(y, min(k, len(y)), seed)
    scores, starts = {}, {}
    for C in sorted(Cs):   # each fold's solve starts from its solution for the previous C
        losses = []
        for fold in range(folds.max() + 1):
            held = folds == fold
            if not held.any() or held.all():
                continue
            W, b = fit_logistic(X[~held], y[~held], num_classes, C, init=starts.get(fold),
                                max_iter=500, tol=1e-6)
            starts[fold] = (W, b)
            losses.append(log_loss(X[held], y[held], W, b) * held.sum())
        scores[C] = float(np.sum(losses) / len(y))
    best = min(sorted(scores), key=lambda c: scores[c])
    return best, scores
