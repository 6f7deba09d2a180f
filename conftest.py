"""Root test configuration: hypothesis profiles.

`default` is quick, for working locally; `ci` is thorough (at least 1,000 examples a property)
and is chosen by HYPOTHESIS_PROFILE=ci, or automatically when the CI variable is set, as it is
when `.ci/run` runs. Long fuzzing sessions can use `HYPOTHESIS_PROFILE=fuzz`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=100_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)
