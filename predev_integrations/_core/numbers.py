"""What counts as a number from outside: one rule for the forecast, the watcher and the alert.

Pure and cheap to import (only `math`): the alert words its line without loading the forecast.
"""

from __future__ import annotations

import math


def finite_number(value: object) -> float | None:
    """`value` as a finite float, or None when it is not a number (bool is not) or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None
