"""Kernels of the dense small-map convolution (``minitorch.ops.conv_dense``).

On a map of a few pixels a convolution is a small dense linear map from the input's
``C * H * W`` values to the output's ``O * OH * OW``; ``D`` is that map's matrix, laid out like
a weight (a row per output value): ``D[o * PO + po, c * PI + pi] = w[o, c, T[pi, po]]``, zero
where ``T`` is -1 (no tap links input pixel ``pi`` to output pixel ``po``). ``T`` comes from
``ops.conv_dense.tap_table``. Row ``o`` of ``D`` and ``w[o]`` are one contiguous block each, so
both kernels run over them block by block.
"""
from numba import njit, prange

__all__ = ["dense_weight", "dense_weight_grad"]


@njit(parallel=True, cache=True)
def dense_weight(D, w, T):
    """Fill ``D`` (O*PO, C*PI) from ``w`` (O, C, KH*KW) through the tap table ``T`` (PI, PO).

    Parallel over the output channels ``o``: iteration ``o`` writes only rows
    ``o*PO .. o*PO + PO - 1`` of ``D``, so the writes are disjoint.
    """
    O, C = w.shape[0], w.shape[1]
    PI, PO = T.shape
    for o in prange(O):
        for po in range(PO):
            row = D[o * PO + po]
            for c in range(C):
                for pi in range(PI):
                    t = T[pi, po]
                    row[c * PI + pi] = w[o, c, t] if t >= 0 else 0


@njit(parallel=True, cache=True)
def dense_weight_grad(gw, gD, T):
    """``gw[o, c, t]`` (O, C, KH*KW) = the sum of ``gD[o*PO + po, c*PI + pi]`` over the pixel
    pairs that ``T`` links through tap ``t`` (zero for a tap that links none), in the order of
    ``po`` then ``pi``.

    Parallel over the output channels ``o``: iteration ``o`` writes only ``gw[o]``.
    """
    O, C, KK = gw.shape
    PI, PO = T.shape
    for o in prange(O):
        for c in range(C):
            for t in range(KK):
                gw[o, c, t] = 0
        for po in range(PO):
            row = gD[o * PO + po]
            for c in range(C):
                for pi in range(PI):
                    t = T[pi, po]
                    if t >= 0:
                        gw[o, c, t] += row[c * PI + pi]
