"""What the coming work will spend (`need`): read, priced, and said in specs. Pure.

A gate compares the balance with the floor plus the need, so a batch starts only with enough
for all of it. A need is either credits (`600`, `"600 credits"`) or specs by kind
(`"12 deep, 3 fast"`, `{"deep": 12, "fast": 3}`; in a mapping a list counts by its length, so
an Airflow `XComArg` of the list a mapped task expands over sizes the gate). Specs are priced
at the vendor's upper ends (`defaults.SPEC_COST`) unless `spec_cost` gives a team's own
(`"deep=40,fast=8"` or `{"deep": 40}`). Anything else is refused with one line naming the
field: a negative, non-finite, fractional-spec or absurd need, an unknown kind, a zero cost.
"""

from __future__ import annotations

import math
import re

from ..errors import ConfigError
from .defaults import MAX_NEED_CREDITS, MAX_NEED_SPECS, MAX_SPEC_COST, SPEC_COST, SPEC_KINDS
from .ranges import Range, number_from_text, range_problem
from .sanitize import brief, quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .forecast import Forecast
    from .verdict import Balance

#: A need's credits: a number >= 0, at most MAX_NEED_CREDITS.
NEED_CREDITS = Range(0, MAX_NEED_CREDITS)
#: A spec cost set explicitly: above 0 (never a silent zero), at most MAX_SPEC_COST.
SPEC_COST_BOUNDS = Range(0, MAX_SPEC_COST, above=True)
#: Longer text is not a need anyone typed.
MAX_TEXT = 200
#: What every refusal ends with: the forms a need may take.
FORMS = 'give credits (600) or specs by kind ("12 deep, 3 fast")'
COST_FORMS = 'give kind=credits pairs ("deep=40,fast=8")'

_NUMBER = re.compile(r"^[+-]?(?:[0-9._eE+-]+|nan|inf|infinity)(?:\s*credits?)?$", re.IGNORECASE)
_CREDITS_WORD = re.compile(r"\s*credits?$", re.IGNORECASE)
_SPECS = re.compile(r"^(?P<count>\S+)\s+(?P<kind>[A-Za-z]+)(?:\s+specs?)?$", re.IGNORECASE)
_COST = re.compile(r"^(?P<kind>[A-Za-z]+)\s*=\s*(?P<cost>\S+)$")


class NeedError(ValueError):
    """Why a need or a spec cost is refused: one clause, the field's name left to the caller."""


class Need:
    """A need: `specs` by kind (priced at `costs`), or a plain amount of credits (`plain`)."""

    __slots__ = ("costs", "plain", "specs")

    def __init__(
        self,
        specs: Mapping[str, int] | None = None,
        plain: float = 0,
        costs: Mapping[str, float] | None = None,
    ) -> None:
        #: Counts by kind, in SPEC_KINDS order, zero counts left out; empty for credits.
        self.specs = {kind: specs[kind] for kind in SPEC_KINDS if specs and specs.get(kind)}
        self.plain = plain
        self.costs = dict(SPEC_COST if costs is None else {**SPEC_COST, **costs})

    @property
    def credits(self) -> float:
        """What the work may spend at most: the specs at their costs, or the plain amount."""
        if not self.specs:
            return self.plain
        return sum(count * self.costs[kind] for kind, count in self.specs.items())

    def text(self) -> str:
        """The need as it is written on a command line: `12 deep, 3 fast` or `600`."""
        if not self.specs:
            return _number(self.plain)
        return ", ".join(f"{count} {kind}" for kind, count in self.specs.items())

    def to_json(self) -> dict[str, object]:
        """The `need` object of `--format json` (docs/cli.md)."""
        return {
            "credits": self.credits,
            "specs": dict(self.specs) or None,
            "spec_cost": {kind: self.costs[kind] for kind in self.specs} or None,
        }

    def __repr__(self) -> str:
        return f"Need({self.text()!r}, credits={self.credits!r})"


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_need(value: object) -> Need | None:
    """A need from a flag's text, a config value, a rendered template or a DAG's literal;
    None for no need (None, 0, zero specs). ValueError says why not, in one clause."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise NeedError(f"got {brief(value)}; {FORMS}")
    if isinstance(value, (int, float)):
        problem = range_problem(value, NEED_CREDITS)
        if problem is not None:
            raise NeedError(f"{problem} (credits)")
        return Need(plain=value) if value else None
    if isinstance(value, str):
        return _need_from_text(value)
    if isinstance(value, dict):
        return _need_from_mapping(value)
    if isinstance(value, (list, tuple)):
        raise NeedError(
            f'got a list of {len(value)}; name its kind so its length counts ({{"deep": the list}})'
        )
    raise NeedError(f"got {brief(value)}; {FORMS}")


def _need_from_text(text: str) -> Need | None:
    stripped = text.strip()
    if not stripped:
        raise NeedError(f"is empty; {FORMS}")
    if len(stripped) > MAX_TEXT or not stripped.isascii():
        raise NeedError(f"{quote(text)} is not a need; {FORMS}")
    if _NUMBER.match(stripped):
        number_text = _CREDITS_WORD.sub("", stripped)
        try:
            amount = number_from_text(number_text, NEED_CREDITS)
        except ValueError as exc:
            raise NeedError(f"{exc} (credits)") from None
        return Need(plain=amount) if amount else None
    counts: dict[str, int] = {}
    for part in stripped.split(","):
        match = _SPECS.match(part.strip())
        if match is None:
            raise NeedError(f"{quote(part.strip() or text)} is not a count and a kind; {FORMS}")
        _add(counts, match["kind"], _count(match["count"], match["kind"]))
    return _need_from_counts(counts)


def _need_from_mapping(mapping: dict[object, object]) -> Need | None:
    counts: dict[str, int] = {}
    for kind, value in mapping.items():
        if not isinstance(kind, str):
            raise NeedError(f"has the key {brief(kind)}; keys are spec kinds ({_kinds()})")
        if isinstance(value, (list, tuple)):
            count = len(value)  # the specs themselves: as many as the list holds
        elif isinstance(value, str):
            count = _count(value.strip(), kind)  # a rendered template's text
        elif isinstance(value, int) and not isinstance(value, bool):
            count = value
        else:
            raise NeedError(f"{kind} must be a whole number of specs or a list, got {brief(value)}")
        _add(counts, kind, count)
    return _need_from_counts(counts)


def _count(text: str, kind: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise NeedError(f"{quote(f'{text} {kind}')}: {quote(text)} is not a whole number of specs")
    if len(text) > 12:
        text = "9" * 12  # refused below as too many, without parsing a huge number
    return int(text)


def _add(counts: dict[str, int], kind: str, count: int) -> None:
    name = kind.lower()
    if name not in SPEC_KINDS:
        raise NeedError(f"names the unknown spec kind {quote(kind)}; the kinds are {_kinds()}")
    if name in counts:
        raise NeedError(f"names {name} twice; give each kind once ({FORMS})")
    if count < 0 or count > MAX_NEED_SPECS:
        raise NeedError(
            f"{name} must be a whole number of specs from 0 to {MAX_NEED_SPECS}, got {count}"
        )
    counts[name] = count


def _need_from_counts(counts: dict[str, int]) -> Need | None:
    return Need(counts) if any(counts.values()) else None


def _kinds() -> str:
    return " or ".join(SPEC_KINDS)


def parse_spec_cost(value: object) -> dict[str, float]:
    """Costs per kind from `"deep=40,fast=8"` or `{"deep": 40}`: each above 0 and at most
    MAX_SPEC_COST; kinds left out keep the defaults. ValueError says why not."""
    pairs: list[tuple[str, object]]
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped or len(stripped) > MAX_TEXT or not stripped.isascii():
            raise NeedError(f"{quote(value)} is not a list of costs; {COST_FORMS}")
        pairs = []
        for part in stripped.split(","):
            match = _COST.match(part.strip())
            if match is None:
                raise NeedError(f"{quote(part.strip())} is not kind=credits; {COST_FORMS}")
            pairs.append((match["kind"], match["cost"]))
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise NeedError(f"got {brief(value)}; {COST_FORMS}")
    costs: dict[str, float] = {}
    for kind, cost in pairs:
        name = kind.lower() if isinstance(kind, str) else ""
        if name not in SPEC_KINDS:
            raise NeedError(f"names the unknown spec kind {brief(kind)}; the kinds are {_kinds()}")
        if name in costs:
            raise NeedError(f"names {name} twice")
        try:
            raw = number_from_text(cost, SPEC_COST_BOUNDS) if isinstance(cost, str) else cost
        except ValueError as exc:
            raise NeedError(f"{name}: {exc}") from None
        problem = range_problem(raw, SPEC_COST_BOUNDS)
        if problem is not None:
            raise NeedError(f"{name} {problem} credits per spec")
        assert isinstance(raw, (int, float))
        costs[name] = raw
    return costs


def need_value(value: object, name: str = "need", spec_cost: object = None) -> Need | None:
    """`parse_need` and `parse_spec_cost` for a config file, a DAG or a trigger: ConfigError
    naming the field ("need ...", "spec_cost ...") instead of ValueError."""
    try:
        need = parse_need(value)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc}.") from None
    costs = spec_cost_value(spec_cost)
    if need is None or costs is None:
        return need
    return Need(need.specs, need.plain, costs)


def spec_cost_value(value: object, name: str = "spec_cost") -> dict[str, float] | None:
    """`parse_spec_cost` with a ConfigError naming the field; None for none given."""
    if value is None:
        return None
    try:
        return parse_spec_cost(value)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc}.") from None


def covered(balance: Balance, need: Need | None) -> Balance:
    """The balance the floor is compared with: what remains once the need is spent."""
    return balance if need is None else balance - need.credits


def shortfall(balance: Balance, floor: float, need: Need) -> float:
    """Credits missing for the floor plus the need (0 when there is enough)."""
    missing = floor + need.credits - balance
    return missing if missing > 0 else 0


# --- Words ---------------------------------------------------------------------------------


def planned(need: Need, *, unit: bool = True) -> str:
    """`the 12 Deep and 3 Fast Specs planned (at most 630 credits)`, `the 600 credits planned`."""
    if not need.specs:
        return f"the {_number(need.plain)} credits planned"
    labels = [f"{count} {kind.capitalize()}" for kind, count in need.specs.items()]
    total = sum(need.specs.values())
    specs = " and ".join(labels) + (" Specs" if total > 1 else " Spec")
    cost = _number(need.credits) + (" credits" if unit else "")
    return f"the {specs} planned (at most {cost})"


def enough_phrase(need: Need, floor: float) -> str:
    return f"enough for {planned(need)} and the floor {_number(floor)}"


def short_phrase(need: Need, missing: float, floor: float) -> str:
    """`short by 30 credits for the 12 Deep Specs planned (at most 600)`; `and the floor 50`
    too when the balance is below the floor itself."""
    also = f" and the floor {_number(floor)}" if missing > need.credits else ""
    return f"short by {_number(missing)} credits for {planned(need, unit=False)}{also}"


def batches_phrase(
    need: Need, balance: Balance, floor: float, result: Forecast | None
) -> str | None:
    """`enough for about 3 such batches before the floor`, when a runway is known (or the
    balance is not being spent) and at least one batch fits above the floor; else None."""
    from .forecast import KNOWN, NOT_SPENDING

    if result is None or result.status not in (KNOWN, NOT_SPENDING) or need.credits <= 0:
        return None
    above = balance - floor
    if not math.isfinite(above) or above < need.credits:
        return None
    batches = int(above // need.credits)
    return f"enough for about {batches} such batch{'es' if batches > 1 else ''} before the floor"
