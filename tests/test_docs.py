"""The Python code blocks of the documentation run as written.

Each page's ``.. code-block:: python`` blocks run in order in one namespace
(as a reader would type them into one session), in a scratch folder; the
README's blocks are run by tests/test_readme.py. A block that uses a name no
earlier block of its page defines fails here, as it would for a reader.
"""

import re
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block:: python[ \t]*\n"
                    r"(?P<body>(?:[ \t]*\n|(?P=indent)[ \t]+.*\n)+)", flags=re.M)


def python_blocks(text):
    """The bodies of a reST page's ``code-block:: python`` directives, dedented."""
    blocks = []
    for match in _BLOCK.finditer(text):
        lines = match["body"].splitlines()
        lines = [line for line in lines if not line.lstrip().startswith(":")]  # options
        blocks.append(textwrap.dedent("\n".join(lines)).strip() + "\n")
    return blocks


PAGES = sorted(p.name for p in DOCS.glob("*.rst") if python_blocks(p.read_text()))


def test_block_extraction():
    text = ("Intro\n\n.. code-block:: python\n\n    a = 1\n\n    b = a + 1\n\nText\n\n"
            "* item\n\n  .. code-block:: python\n\n      c = b\n\nEnd\n")
    assert python_blocks(text) == ["a = 1\n\nb = a + 1\n", "c = b\n"]
    assert {"index.rst", "user_guide.rst"} <= set(PAGES)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_docs_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # skae.save and checkpoints write here
    namespace = {"__name__": "__docs__"}
    for i, block in enumerate(python_blocks((DOCS / page).read_text())):
        exec(compile(block, f"{page} (code block {i + 1})", "exec"), namespace)
