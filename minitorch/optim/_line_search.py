"""The strong-Wolfe line search of ``LBFGS(line_search_fn="strong_wolfe")``, as torch runs it.

The search looks along a direction ``d`` from the parameters ``x`` for a step ``t`` whose loss
is low enough (Armijo: ``f(t) <= f + c1 t g.d``) and whose slope is flat enough
(``|g(t).d| <= c2 |g.d|``). It has two phases (Nocedal and Wright, algorithms 3.5 and 3.6):
stepping out with cubic extrapolation until an interval is known to hold such a step (or one
is found), then shrinking that interval by cubic interpolation ("zoom").

A point on the line is a tuple ``(t, f, g, gtd)``: the step, the loss there (a float), the
flat gradient there and its directional derivative ``g.d`` (a 0-d tensor). Steps and
derivatives stay the mix of Python numbers and 0-d tensors that torch's search works with, so
a float32 run rounds where torch's does.
"""

__all__ = ["cubic_interpolate", "strong_wolfe"]


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1``,
    ``g2``, clipped to ``bounds`` (by default the interval between the two points); the
    bounds' midpoint when the cubic has no minimum."""
    if bounds is not None:
        lo, hi = bounds
    else:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if not d2_square >= 0:
        return (lo + hi) / 2.0
    d2 = d2_square.sqrt()
    # measured from the right-hand point, which keeps the formula's denominator away from 0
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Search the line ``x + t d``, starting at step ``t``; ``f``, ``g``, ``gtd`` are the
    loss, flat gradient and ``g.d`` at ``t = 0``. ``obj_func(x, t, d)`` returns the loss and
    the flat gradient at step ``t`` (and leaves the parameters at ``x``). At most ``max_ls``
    evaluations after the first. Returns ``(loss, flat_grad, t, evaluations)`` of the chosen
    step."""
    start = (0, f, g.clone(), gtd)
    bracket, done, ls_iter = _bracket(obj_func, x, t, d, start, c1, c2, max_ls)
    (t, f_new, g_new, _), ls_iter = _zoom(obj_func, x, d, start, bracket, done, ls_iter, c1,
                                          c2, tolerance_change, max_ls)
    # every pass of either phase evaluates once, after the first evaluation at the initial t
    return f_new, g_new, t, ls_iter + 1


def _evaluate(obj_func, x, t, d):
    f_new, g_new = obj_func(x, t, d)
    return (t, f_new, g_new, g_new.dot(d))


def _armijo_fails(point, start, c1):
    t, f_new, _, _ = point
    return f_new > start[1] + c1 * t * start[3]


def _curvature_holds(point, start, c2):
    return abs(point[3]) <= -c2 * start[3]


def _bracket(obj_func, x, t, d, start, c1, c2, max_ls):
    """Phase 1: step out from ``start`` until a point meets both conditions (returned alone,
    with ``done``) or two points bracket one; ``(bracket, done, passes)``."""
    prev = start
    new = _evaluate(obj_func, x, t, d)
    ls_iter = 0
    while ls_iter < max_ls:
        if _armijo_fails(new, start, c1) or (ls_iter > 1 and new[1] >= prev[1]):
            return [prev, new], False, ls_iter
        if _curvature_holds(new, start, c2):
            return [new], True, ls_iter
        if new[3] >= 0:   # the slope turned: a minimum lies behind the new point
            return [prev, new], False, ls_iter
        # extrapolate, at least a little beyond the new point and at most 10 times its step
        t = new[0]
        bounds = (t + 0.01 * (t - prev[0]), t * 10)
        t_next = cubic_interpolate(prev[0], prev[1], prev[3], t, new[1], new[3], bounds=bounds)
        prev = new
        new = _evaluate(obj_func, x, t_next, d)
        ls_iter += 1
    # out of evaluations: choose between the start and the last point tried
    return [start, new], False, ls_iter


def _zoom(obj_func, x, d, start, bracket, done, ls_iter, c1, c2, tolerance_change, max_ls):
    """Phase 2: shrink ``bracket`` around a point meeting both conditions, while passes
    remain; ``(the lowest point found, passes of both phases)``."""
    d_norm = d.abs().max()
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insuf_progress = False
    while not done and ls_iter < max_ls:
        (t_a, f_a, _, gtd_a), (t_b, f_b, _, gtd_b) = bracket
        if abs(t_b - t_a) * d_norm < tolerance_change:   # the bracket is too small to matter
            break
        t = cubic_interpolate(t_a, f_a, gtd_a, t_b, f_b, gtd_b)
        t, insuf_progress = _away_from_ends(t, t_a, t_b, insuf_progress)
        new = _evaluate(obj_func, x, t, d)
        ls_iter += 1
        if _armijo_fails(new, start, c1) or new[1] >= bracket[low][1]:
            bracket[high] = new
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
            continue
        if _curvature_holds(new, start, c2):
            done = True
        elif new[3] * (bracket[high][0] - bracket[low][0]) >= 0:
            bracket[high] = bracket[low]   # the slope points away from high: low becomes high
        bracket[low] = new
    return bracket[low], ls_iter


def _away_from_ends(t, t_a, t_b, insuf_progress):
    """Torch's insufficient-progress rule: a trial step within a tenth of the bracket's width
    of one of its ends is moved to that distance from the nearer end when the previous trial
    was also that close, or when it lies on or outside an end; ``(t, insuf_progress)``."""
    hi, lo = max(t_a, t_b), min(t_a, t_b)
    eps = 0.1 * (hi - lo)
    if not min(hi - t, t - lo) < eps:
        return t, False
    if insuf_progress or t >= hi or t <= lo:
        return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False
    return t, True
