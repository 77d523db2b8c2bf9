"""Hypothesis profiles: "default" for local runs, "ci" (chosen when the CI variable is set) and
"thorough" (HYPOTHESIS_PROFILE=thorough, twelve times the examples).

CI's profile is derandomized, so a run there tests the same examples every time and its
result depends only on the code; locally every run explores new ones. An explicit
HYPOTHESIS_PROFILE wins over CI.
"""

import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

QUICK = {"max_examples": 25, "deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", **QUICK)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **QUICK)
settings.register_profile("thorough", **{**QUICK, "max_examples": 300})

in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci else "default"))
