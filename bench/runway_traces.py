"""Synthetic credit traces for the runway evaluation: how teams really spend, and when they look.

Each family is one way a team uses pre.dev, drawn with its own random parameters per seed (so
the model is judged on traces it was not tuned on: new seeds are new teams). Costs are the
vendor's: a Fast Spec 5-10 credits, a Deep Spec 10-50. A trace holds what happened (every
spend, refund and top-up, with its time) and what a check would have read (the balance at
each reading time); the evaluation scores a forecast made at each reading against the
spending that really followed.

Pure and deterministic: `trace(family, seed)` is the same on every machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

HOUR = 3_600.0
DAY = 86_400.0
WEEK = 7 * DAY
#: Monday 5 Jan 2026 00:00 UTC: traces start on a Monday, then a random offset into the week.
EPOCH = 1_767_571_200.0

FAMILIES = (
    "cron",  # an hourly job around the clock, read by the same cron
    "office",  # office-hours use, read by CI pushes
    "batch",  # a weekly batch job, read by a daily check
    "growing",  # use growing a few % a day
    "few",  # three checks a working day
    "topups",  # top-ups when low, and small refunds
    "idle",  # a key that spends nothing
    # Added after the held-out traces of issue 32 showed where the model failed:
    "near_idle",  # a small spec every week or two, read by CI on every push, months of credits
    "months",  # use growing 0.5-2.5 % a day for 20 weeks, topped up as it grows
    "cron_short",  # a steady hourly cron kept a few hours to days from the floor by top-ups
    "batch_varied",  # a weekly batch of 5-60 specs, some weeks skipped, some doubled
)


@dataclass
class Trace:
    family: str
    seed: int
    start: float
    end: float
    floor: float
    #: (time, credits): spending is positive, a refund negative. Top-ups are not spending.
    spends: list[tuple[float, float]] = field(default_factory=list)
    topups: list[tuple[float, float]] = field(default_factory=list)
    #: (time, balance) as a check would have read it.
    readings: list[tuple[float, float]] = field(default_factory=list)
    #: An `office` team's hours (UTC offset, opening and closing hour, local) and the credits
    #: it spends an office hour on average: what no forecaster is told, for the references
    #: that know them (`runway_eval --office-limits`).
    office_hours: tuple[float, float, float] | None = None
    office_rate: float | None = None
    #: A `batch_varied` team's schedule (the time of a weekly run, any week) and its share of
    #: Deep Specs: what the reference that knows the team's process is told
    #: (`runway_eval --batch-oracle`).
    batch_at: float | None = None
    deep_share: float | None = None


#: A spec's cost in whole credits, lowest and highest: the vendor's Deep Spec and Fast Spec.
DEEP_SPEC = (10, 50)
FAST_SPEC = (5, 10)


def spec_cost(rng: random.Random, deep_share: float) -> float:
    """One spec's cost in whole credits: Deep 10-50 or Fast 5-10."""
    if rng.random() < deep_share:
        return float(rng.randint(*DEEP_SPEC))
    return float(rng.randint(*FAST_SPEC))


def mean_spec_cost(deep_share: float) -> float:
    """What `spec_cost` costs on average."""
    return deep_share * sum(DEEP_SPEC) / 2 + (1 - deep_share) * sum(FAST_SPEC) / 2


def _poisson_times(rng: random.Random, start: float, end: float, per_hour: float) -> list[float]:
    times: list[float] = []
    if per_hour <= 0:
        return times
    at = start
    while True:
        at += rng.expovariate(per_hour / HOUR)
        if at >= end:
            return times
        times.append(at)


def office_windows(
    start: float, end: float, offset_h: float, open_h: float, close_h: float
) -> Iterator[tuple[float, float]]:
    """(from, to) of each working day's office hours, in UTC, for a team `offset_h` from UTC."""
    day = math.floor((start - EPOCH) / DAY) - 1
    while True:
        midnight_local = EPOCH + day * DAY - offset_h * HOUR
        if midnight_local > end:
            return
        weekday = day % 7
        if weekday < 5:
            lo, hi = midnight_local + open_h * HOUR, midnight_local + close_h * HOUR
            if hi > start and lo < end:
                yield max(lo, start), min(hi, end)
        day += 1


def _spend_pattern(
    rng: random.Random, kind: str, start: float, end: float, hours: tuple[float, float, float]
) -> tuple[list[float], float]:
    """Times of spec generations for a spending pattern: 'cron', or 'office' in the team's
    `hours` (UTC offset, opening and closing hour); and, for 'office', specs an office hour."""
    if kind == "cron":
        minute = rng.uniform(0, 60)
        per_run = rng.choice((1, 1, 2, 3))
        skip = rng.uniform(0.0, 0.15)  # runs that generate nothing this hour
        times: list[float] = []
        at = start - (start - EPOCH) % HOUR + minute * 60
        while at < end:
            if at >= start and rng.random() >= skip:
                times.extend(at + i * rng.uniform(20, 90) for i in range(per_run))
            at += HOUR
        return times, 0.0
    per_hour = rng.uniform(1.0, 4.0)
    times = []
    for lo, hi in office_windows(start, end, *hours):
        times.extend(_poisson_times(rng, lo, hi, per_hour))
    return times, per_hour


def stationary_team(
    rng: random.Random, now: float
) -> tuple[list[tuple[float, float]], float, float]:
    """The model's home ground: hourly readings of a team whose specs arrive as a Poisson
    stream at a steady random rate and cost what the vendor's page says, for 3 to 21 days up to
    `now`; a floor 1 to 10 days of its spending away; and the seconds until the spending that
    followed really reached it. Where the model's assumptions hold exactly, its band must hold
    the truth 8 times in 10 (tests/core's property, `runway_tune.stationary_coverage`)."""
    per_hour, deep = rng.uniform(0.5, 3.0), rng.uniform(0.2, 0.7)
    balance, readings = 1e6, []
    hour = now - rng.uniform(3, 21) * DAY
    spec = hour + rng.expovariate(per_hour / HOUR)
    while hour <= now:
        while spec <= hour:
            balance -= spec_cost(rng, deep)
            spec += rng.expovariate(per_hour / HOUR)
        readings.append((hour, balance))
        hour += HOUR
    above = per_hour * mean_spec_cost(deep) * 24 * rng.uniform(1, 10)
    spent = 0.0
    while True:  # the spending that followed the newest reading
        spent += spec_cost(rng, deep)
        if spent >= above:
            return readings, balance - above, spec - readings[-1][0]
        spec += rng.expovariate(per_hour / HOUR)


def _costs(rng: random.Random, times: list[float], deep_share: float) -> list[tuple[float, float]]:
    return [(at, spec_cost(rng, deep_share)) for at in sorted(times)]


def _mean_daily(spends: list[tuple[float, float]], start: float, end: float) -> float:
    """Credits spent per day between `start` and `end`."""
    spent = sum(c for at, c in spends if start <= at < end)
    return spent / max((end - start) / DAY, 1e-9)


#: A `batch_varied` week: skipped with this chance, else run twice with this one (the second
#: run this many days after the first), each run this many specs.
BATCH_SKIP, BATCH_TWICE, BATCH_SECOND, BATCH_SPECS = 0.15, 0.1, (1, 3), (5, 60)

#: Weeks a family's traces run, where not the default 12.
WEEKS = {"months": 20}


def trace(family: str, seed: int, weeks: int | None = None) -> Trace:
    """One trace of `family` (see FAMILIES); `seed` draws the team."""
    weeks = WEEKS.get(family, 12) if weeks is None else weeks
    rng = random.Random(f"{family}/{seed}")
    start = EPOCH + rng.uniform(0, WEEK)
    end = start + weeks * WEEK
    deep_share = rng.uniform(0.2, 0.7)
    floor = float(rng.choice((0, 1, 50, 100)))
    # The team's working hours: UTC offset, opening and closing hour (local).
    hours = (
        rng.choice((-8.0, -5.0, -4.0, 0.0, 1.0, 2.0, 5.5)),
        rng.uniform(8, 10),
        rng.uniform(17, 19),
    )
    reading_times: list[float]
    spends: list[tuple[float, float]]
    refunds: list[tuple[float, float]] = []
    topup_rule: tuple[float, float, float] | None = None  # low mark, amount, delay

    if family in ("cron", "growing", "topups", "few", "office", "months", "cron_short"):
        kind = {"cron": "cron", "cron_short": "cron", "office": "office"}.get(
            family, rng.choice(("cron", "office"))
        )
        times, per_hour = _spend_pattern(rng, kind, start, end, hours)
        spends = _costs(rng, times, deep_share)
        if family in ("growing", "months"):
            low, high = (0.015, 0.05) if family == "growing" else (0.005, 0.025)
            growth = rng.uniform(low, high)  # per day
            thinned: list[tuple[float, float]] = []
            for at, _cost in spends:
                # Grow by repeating specs: each spec is generated exp(g t) times on average.
                factor = math.exp(growth * (at - start) / DAY) / 4.0
                count = int(factor) + (rng.random() < factor - int(factor))
                thinned.extend((at + i * 7.0, spec_cost(rng, deep_share)) for i in range(count))
            spends = thinned
    elif family == "batch":
        # The same job every week (a few specs more or less), on its day and hour.
        batch_day = rng.choice((0, 0, 0, 1, 4, 6))
        batch_hour = rng.uniform(0, 24)
        specs = rng.randint(15, 40)
        spends = []
        at = EPOCH + batch_day * DAY + batch_hour * HOUR
        while at < end:
            if at >= start:
                count = specs + rng.randint(-2, 2)
                spends.extend(
                    (at + i * rng.uniform(30, 240), spec_cost(rng, deep_share))
                    for i in range(count)
                )
            at += WEEK
        # A little ad-hoc use between batches, some teams.
        if rng.random() < 0.3:
            spends += _costs(rng, _poisson_times(rng, start, end, rng.uniform(0.0, 0.02)), 0.3)
        spends.sort()
    elif family == "batch_varied":
        # A weekly job whose size follows the work: 5-60 specs, a week skipped now and then,
        # a second run in a busy week.
        batch_day, batch_hour = rng.randrange(7), rng.uniform(0, 24)
        spends = []
        at = EPOCH + batch_day * DAY + batch_hour * HOUR
        while at < end:
            runs = 0 if rng.random() < BATCH_SKIP else 2 if rng.random() < BATCH_TWICE else 1
            for run in range(runs):
                first = at + run * rng.uniform(*BATCH_SECOND) * DAY
                if start <= first < end:
                    spends.extend(
                        (first + i * rng.uniform(30, 240), spec_cost(rng, deep_share))
                        for i in range(rng.randint(*BATCH_SPECS))
                    )
            at += WEEK
        spends.sort()
    elif family == "near_idle":
        # A spec every week or two, mostly Fast.
        spends = _costs(rng, _poisson_times(rng, start, end, 1 / rng.uniform(7 * 24, 14 * 24)), 0.2)
    elif family == "idle":
        spends = []
    else:
        raise ValueError(f"unknown family {family!r}")

    if family == "topups":
        for at, cost in spends:
            if rng.random() < 0.06:  # a failed spec, refunded a little later
                refunds.append((at + rng.uniform(300, 3_600), -cost))
        daily = _mean_daily(spends, start, end)
        topup_rule = (daily * rng.uniform(2, 6), daily * rng.uniform(8, 25), rng.uniform(1, 24))
    elif family == "months":
        # Topped up as a team that grows would: by what it spends by the end.
        daily = _mean_daily(spends, end - 2 * WEEK, end)
        topup_rule = (daily * rng.uniform(2, 6), daily * rng.uniform(8, 25), rng.uniform(1, 24))
    elif family == "cron_short":
        # Kept close to the floor: runways of hours to a few days.
        daily = _mean_daily(spends, start, end)
        topup_rule = (daily * rng.uniform(0.2, 1), daily * rng.uniform(1, 4), rng.uniform(1, 12))

    # When the checks read the balance.
    if family in ("cron", "growing", "topups", "idle", "months", "cron_short"):
        minute = rng.uniform(0, 60)
        first = start - (start - EPOCH) % HOUR + minute * 60
        reading_times = [first + i * HOUR for i in range(int((end - first) // HOUR))]
        if family == "topups" and rng.random() < 0.5:
            reading_times = _ci_pushes(rng, start, end, hours)
    elif family in ("office", "near_idle"):
        reading_times = _ci_pushes(rng, start, end, hours)
    elif family in ("batch", "batch_varied"):
        hour = rng.uniform(0, 24)
        first = start - (start - EPOCH) % DAY + hour * HOUR
        reading_times = [first + i * DAY for i in range(int((end - first) // DAY))]
    else:  # few: three checks a working day, in the team's hours
        reading_times = []
        for lo, _hi in office_windows(start, end, hours[0], 9.0, 18.0):
            day_start = lo - 9.0 * HOUR if lo > start else lo
            for hour in (9.0, 13.0, 17.0):
                at = day_start + hour * HOUR + rng.uniform(-900, 900)
                if start <= at < end:
                    reading_times.append(at)
    reading_times = sorted(t for t in reading_times if start <= t < end)

    mean_daily = _mean_daily(spends, start, start + 2 * WEEK) or 100.0
    balance = floor + mean_daily * rng.uniform(25, 55)
    if family == "growing":
        balance = floor + mean_daily * rng.uniform(20, 35)
    if family == "topups":
        balance = floor + mean_daily * rng.uniform(5, 15)
    if family == "idle":
        balance = rng.uniform(100, 5_000)
    if family == "near_idle":
        balance = floor + rng.uniform(300, 3_000)  # months to years at its pace
    if family == "cron_short":
        balance = floor + mean_daily * rng.uniform(0.5, 3)
    out = Trace(family, seed, start, end, floor)
    if family == "batch_varied":
        out.batch_at, out.deep_share = EPOCH + batch_day * DAY + batch_hour * HOUR, deep_share
    if family == "office":
        out.office_hours = hours
        out.office_rate = per_hour * mean_spec_cost(deep_share)
    return _simulate(
        out,
        rng,
        balance,
        spends + refunds,
        reading_times,
        topup_rule,
    )


def _ci_pushes(
    rng: random.Random, start: float, end: float, hours: tuple[float, float, float]
) -> list[float]:
    """The team's pushes: through its working hours, and the odd one at night or a weekend."""
    per_hour = rng.uniform(1.0, 5.0)
    times = []
    for lo, hi in office_windows(start, end, *hours):
        times.extend(_poisson_times(rng, lo, hi, per_hour))
    times.extend(_poisson_times(rng, start, end, 0.03))  # the odd push at night or a weekend
    return sorted(times)


def _simulate(
    out: Trace,
    rng: random.Random,
    balance: float,
    events: list[tuple[float, float]],
    reading_times: list[float],
    topup_rule: tuple[float, float, float] | None,
) -> Trace:
    """Play the events in time order, topping up when the rule says, reading when checks run."""
    events = sorted(events)
    out.spends = events
    pending: float | None = None
    e = 0
    for at in reading_times:
        while e < len(events) and events[e][0] <= at:
            when, cost = events[e]
            if pending is not None and pending <= when:
                balance += topup_rule[1]  # type: ignore[index]
                out.topups.append((pending, topup_rule[1]))  # type: ignore[index]
                pending = None
            balance -= cost
            if topup_rule and pending is None and balance < out.floor + topup_rule[0]:
                pending = when + topup_rule[2] * HOUR * rng.uniform(0.5, 1.5)
            e += 1
        if pending is not None and pending <= at:
            balance += topup_rule[1]  # type: ignore[index]
            out.topups.append((pending, topup_rule[1]))  # type: ignore[index]
            pending = None
        out.readings.append((at, round(balance)))
    return out
