"""nn.ParameterList / nn.ParameterDict: the same program in torch and minitorch prints the same."""
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

PROGRAM = textwrap.dedent("""
    import {lib} as torch
    torch.manual_seed(0)
    pl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3)), torch.zeros(4)])
    print(repr(pl)); print([n for n, _ in pl.named_parameters()])
    print(type(pl[1]).__name__, pl[1].requires_grad, type(pl[0:2]).__name__, len(pl[0:2]))
    pl.append(torch.zeros(2, dtype=torch.float64)); print(pl[-1].dtype, len(pl))
    pl[0] = torch.full((1,), 2.0); print(type(pl[0]).__name__, pl[0].tolist())
    pd = torch.nn.ParameterDict({{'a': torch.nn.Parameter(torch.ones(2)), 'b': torch.zeros(3)}})
    print(repr(pd)); print(list(pd.keys()), [n for n, _ in pd.named_parameters()])
    m = torch.nn.Module(); m.ps = pl; m.pd = pd; print(list(m.state_dict().keys()))
    print(pd.pop('a').shape, list(pd), len(pd))
    pd['c'] = torch.ones(1); print('c' in pd, 'a' in pd, type(pd['c']).__name__)
    print(pd.get('zz'), type(pd.setdefault('d', torch.ones(2))).__name__, list(pd))
    for bad in (lambda: pl[5], lambda: pd['zz'], lambda: pl(1)):
        try: bad()
        except Exception as e: print(type(e).__name__, e)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.ones(3, 3) * (i + 1)) for i in range(3)])
            self.bs = torch.nn.ParameterDict({{'out': torch.nn.Parameter(torch.zeros(3))}})
        def forward(self, x):
            for w in self.ws:
                x = x @ w
            return x + self.bs['out']
    n = Net(); opt = torch.optim.SGD(n.parameters(), lr=0.01)
    n(torch.ones(1, 3)).sum().backward(); opt.step()
    print([round(p.grad.sum().item(), 4) for p in n.parameters()])
    print([round(p.sum().item(), 4) for p in n.parameters()])
    sd = n.state_dict(); n2 = Net(); print(n2.load_state_dict(sd)); print(list(sd))
    print(repr(n))
""")


def _run(lib):
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(lib=lib)], capture_output=True,
                         text=True, check=True).stdout
    return out.replace("minitorch.", "torch.")


def test_parameter_containers_behave_as_torch():
    assert _run("minitorch") == _run("torch")
