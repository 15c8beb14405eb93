"""The README's code examples marked `<!-- readme-example: NAME -->` run as written."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"<!-- readme-example: (\S+) -->\s*```python\n(.*?)```", README.read_text(),
                      re.S)


def test_readme_has_examples():
    assert "autograd" in [name for name, _ in EXAMPLES]


@pytest.mark.parametrize("name,code", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_readme_example_runs(name, code, monkeypatch):
    monkeypatch.chdir(README.parent)  # examples use paths relative to the repository root
    exec(compile(code, f"README.md:{name}", "exec"), {})
