"""skae's gallery: one torch thread per example, and the answer on top of each page.

Every example in ``examples/`` prints one line that starts with
``Answer:`` -- a sentence built from the numbers that the example has just
computed. sphinx-gallery captures it in the output block of the cell that
printed it. When Sphinx reads the page that sphinx-gallery generated for an
example (the ``source-read`` event: the generated file on disk is left as
sphinx-gallery wrote it, so its cache keeps working), this extension copies
that line into a box right under the page's title, so the page opens with
the answer of the run it shows. Nothing is written by hand: an executed page
whose output has no ``Answer:`` line, or more than one, is a build warning
(an error under ``-W``). Pages of examples that were not executed (a build
with ``-D plot_gallery=0``) have no output and are left alone.
"""

import re

MARKER = "Answer:"
BOX_TITLE = "The answer (computed by the run below)"
_SCRIPT_OUT = ".. rst-class:: sphx-glr-script-out"
_RST_SPECIAL = re.compile(r"([\\`*_|\[\]<>])")


def output_lines(rst):
    """The lines of the captured-output blocks of a generated example page."""
    lines = rst.splitlines()
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != _SCRIPT_OUT:
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].strip():  # blank lines
            i += 1
        if i < len(lines) and lines[i].strip().startswith(".. code-block::"):
            i += 1
        # the block's content: blank or indented lines
        while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
            if lines[i].strip():
                out.append(lines[i].strip())
            i += 1
    return out


def was_executed(rst):
    """Whether the example of a generated page ran (output or figures)."""
    return any(cls in rst for cls in
               (_SCRIPT_OUT, "sphx-glr-single-img", "sphx-glr-multi-img"))


def find_answers(rst):
    """The ``Answer:`` lines printed by the example, without the marker."""
    return [line[len(MARKER):].strip() for line in output_lines(rst)
            if line.startswith(MARKER)]


def insert_answer(rst, answer):
    """``rst`` with ``answer`` in a box right under the page's title.

    The title is the first section title of the page (a line underlined with
    ``=``), which sphinx-gallery takes from the example's docstring.
    """
    lines = rst.split("\n")
    for i in range(1, len(lines)):
        under, title = lines[i].rstrip(), lines[i - 1].strip()
        if title and len(under) >= len(title) and set(under) == {"="}:
            break
    else:
        raise ValueError("no title underlined with '=' in the page")
    sentence = answer[:1].upper() + answer[1:]
    box = ["", f".. admonition:: {BOX_TITLE}", "   :class: skae-answer", "",
           "   " + _RST_SPECIAL.sub(r"\\\1", sentence), ""]
    return "\n".join(lines[:i + 1] + box + lines[i + 1:])


def add_answer(app, docname, source):
    """``source-read`` handler: the answer box on each generated example page."""
    gallery_dirs = app.config.sphinx_gallery_conf.get("gallery_dirs", "auto_examples")
    if isinstance(gallery_dirs, str):
        gallery_dirs = [gallery_dirs]
    folder, _, name = docname.rpartition("/")
    if folder not in gallery_dirs or not name.startswith("plot_"):
        return
    rst = source[0]
    if not was_executed(rst):
        return
    answers = find_answers(rst)
    if len(answers) != 1:
        from sphinx.util import logging  # here: the functions above need no Sphinx

        logging.getLogger(__name__).warning("%s: the example printed %d lines starting with %r, expected one",
                       docname, len(answers), MARKER, location=docname)
        return
    source[0] = insert_answer(rst, answers[0])


def one_torch_thread(gallery_conf, fname):
    """sphinx-gallery ``reset_modules`` hook: run each example on one torch thread.

    The networks of the examples are small (digits: 64 pixels), so extra
    threads gain little, and on a busy machine they cost a lot (threads that
    wait on each other while the cores run other jobs); one thread also makes
    the numbers on the pages the same whatever the machine's core count.
    """
    import torch

    torch.set_num_threads(1)


def setup(app):
    app.connect("source-read", add_answer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
