"""Shared pytest configuration of skae's tests.

Hypothesis profiles (used by tests/test_fuzz.py), selected with the
environment variable ``SKAE_HYPOTHESIS_PROFILE`` (``--hypothesis-profile NAME``
works too):

``ci`` (default)
    Few examples, derandomized (the same examples on every run and machine,
    so CI is reproducible) and no example database (nothing is written to the
    work tree). The whole fuzz file runs in well under two minutes.
``long``
    Many more random examples (a fresh draw on every run), for a fuzzing
    session by hand; failures are remembered in ``.pytest_cache/hypothesis``
    (git-ignored) and replayed first on the next run::

    SKAE_HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py --hypothesis-show-statistics

Each fuzz test asks for ``n_examples(k)``: ``k`` examples under ``ci``, scaled
up by the profile's ``max_examples`` (``FUZZ_BASE_EXAMPLES`` under ``ci``).
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

#: ``max_examples`` of the ``ci`` profile: a test's own count is scaled by
#: the loaded profile's ``max_examples / FUZZ_BASE_EXAMPLES``
FUZZ_BASE_EXAMPLES = 20

_COMMON = dict(
    deadline=None,  # a fit's first optimizer step imports torch modules (seconds)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
    print_blob=True,
)

settings.register_profile(
    "ci", max_examples=FUZZ_BASE_EXAMPLES, derandomize=True, database=None,
    # no shrinking: a failure is reported with the example that found it, fast
    phases=(Phase.explicit, Phase.generate), **_COMMON)
settings.register_profile(
    "long", max_examples=25 * FUZZ_BASE_EXAMPLES, derandomize=False,
    database=DirectoryBasedExampleDatabase(
        Path(__file__).resolve().parent.parent / ".pytest_cache" / "hypothesis"),
    **_COMMON)
settings.load_profile(os.environ.get("SKAE_HYPOTHESIS_PROFILE", "ci"))

