"""The seed tutorial's autograd cells ("A Gentle Introduction to torch.autograd"), verbatim with
``torch`` replaced by ``minitorch``, and their printed results."""
import minitorch as torch


def test_tutorial_backward_with_external_gradient(capsys):
    a = torch.tensor([2., 3.], requires_grad = True)
    b = torch.tensor([6., 4.], requires_grad = True)
    Q = 3*a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient = external_grad)
    # check if collected gradients are correct
    print(9*a**2 == a.grad)
    print(-2*b == b.grad)
    assert capsys.readouterr().out == "tensor([True, True])\ntensor([True, True])\n"
    assert a.grad.tolist() == [36.0, 81.0] and b.grad.tolist() == [-12.0, -8.0]


def test_tutorial_sum_then_backward_is_equivalent():
    a = torch.tensor([2., 3.], requires_grad = True)
    b = torch.tensor([6., 4.], requires_grad = True)
    Q = 3*a**3 - b**2
    Q.sum().backward()
    assert a.grad.tolist() == [36.0, 81.0] and b.grad.tolist() == [-12.0, -8.0]


def test_tutorial_exclusion_from_the_dag(capsys):
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)

    a = x + y
    print(f"Does `a` require gradients? : {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    assert capsys.readouterr().out == ("Does `a` require gradients? : False\n"
                                       "Does `b` require gradients?: True\n")


def test_tutorial_no_grad_context_and_decorator(capsys):
    x = torch.tensor([1], dtype = torch.float, requires_grad = True)
    with torch.no_grad():
        y = x * 2

    print(y.requires_grad)

    @torch.no_grad()
    def doubler(x):
        return x * 2
    z = doubler(x)
    print(z.requires_grad)
    assert capsys.readouterr().out == "False\nFalse\n"
    assert torch.is_grad_enabled()


def test_tutorial_dag_node_names():
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    assert Q.grad_fn.name() == "SubBackward0"
    names = sorted(n.name() for n, _ in Q.grad_fn.next_functions)
    assert names == ["MulBackward0", "PowBackward0"]
    pow_b = [n for n, _ in Q.grad_fn.next_functions if n.name() == "PowBackward0"][0]
    leaf_node = pow_b.next_functions[0][0]
    assert leaf_node.name() == "AccumulateGrad" and leaf_node.variable is b
    assert repr(Q) == "tensor([-12.,  65.], grad_fn=<SubBackward0>)"
