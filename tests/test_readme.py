"""The README's Python snippets run as written (in order, one namespace)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # skae.save writes ae.skae here
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["grid"].best_params_
    assert namespace["new_digits"].shape == (16, 64)


def _cli_options():
    """The option strings of each documented option of each ``skae`` subcommand
    (an option is named by any of its aliases, e.g. ``-o`` / ``--output``)."""
    import argparse

    from skae.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {command: [action.option_strings for action in sub._actions
                      if action.option_strings and action.help != argparse.SUPPRESS
                      and "--help" not in action.option_strings]
            for command, sub in commands.choices.items()}


def test_readme_names_every_cli_option():
    text = README.read_text()
    missing = {command: [names for names in options
                         if not any(f"`{o}" in text or f" {o}" in text for o in names)]
               for command, options in _cli_options().items()}
    assert not any(missing.values()), f"options the README does not name: {missing}"


@pytest.mark.slow
def test_readme_demo_command_runs():
    """``.venv/bin/skae demo`` exactly as the README's quick start runs it."""
    import subprocess
    import sys
    from pathlib import Path

    skae = Path(sys.executable).parent / "skae"  # the console script pip installed
    done = subprocess.run([str(skae), "demo"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:4]]
            for line in done.stdout.splitlines()[2:6]}
    assert list(rows) == ["PCA", "AE", "DAE", "VAE"]
    # at the demo's n_components the autoencoders reconstruct test images
    # better than PCA, and the denoiser undoes noise better than PCA does
    assert rows["AE"][0] < rows["PCA"][0] and rows["DAE"][2] < rows["PCA"][2]
