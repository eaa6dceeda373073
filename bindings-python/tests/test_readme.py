"""The README's Python snippets run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> list[tuple[str, int, str]]:
    out = []
    for doc in ("README.md", "bindings-python/README.md"):
        text = (ROOT / doc).read_text()
        for i, m in enumerate(BLOCK.finditer(text)):
            out.append((doc, i, m.group(1)))
    return out


def test_the_readme_has_python_snippets():
    assert any(doc == "README.md" for doc, _, _ in snippets())


@pytest.mark.parametrize("doc,index,code", snippets(), ids=lambda v: str(v)[:30])
def test_snippet_runs(doc, index, code, capsys):
    exec(compile(code, f"{doc}[python #{index}]", "exec"), {"__name__": "__readme__"})
