"""How a team spends credits, learned from balance readings, and walked forward to the floor.

The balance is not the thing to model: top-ups and refunds move it without changing how fast
the team spends. So the readings become *spending*: each pair of neighbouring readings says
how much was spent between them (a drop), or that credits came back (a rise). A rise of at most
`top_up_tolerance` credits is a refund and is netted against the spending; a larger rise is a
top-up, and the spending inside that gap is unknown, so the gap is left out. Nothing else is
lost at a top-up: the spending before it still tells how fast the team spends after it.

The spending of each gap is spread evenly over its time and summed into UTC hours. From the
hours the model learns, in order:

- **When in the week credits go.** Once the readings cover a week (WEEKLY_AFTER), the spending
  rate of each of the 168 hours of the week (a weekly batch, office hours, quiet weekends).
  Before that, an average over the newest whole days, shaped by the hour of the day (a
  workday's afternoon is never taken for the whole day), one for workdays and one for
  weekends once half a day of each was seen (a workday's rate is not carried across a weekend
  that was seen quiet); under a day, the average over all the readings.
- **Growth or decline.** Between whole weeks (each holds the weekly cycle once, so the cycle
  cancels), the rate may grow or shrink exponentially: fitted by the likelihood of an
  over-dispersed Poisson model (weeks with nothing spent count, which a log-linear fit cannot
  take), with the dispersion of the daily spending, and used only when it is at least
  GROWTH_T standard errors from zero, so a steady pattern does not turn noisy. Growth is
  carried forward for at most as long as it was seen.
- **How noisy the spending is**, from how far each day's spending strays from the model: this
  and the uncertainty of the fitted level and growth give the band (P10-P90).

`project` then walks the model forward hour by hour (a whole week at a time once nothing
changes from week to week) until the spending adds up to the balance above the floor.

Pure: no clock, no I/O, nothing imported but `math` and `itertools`. Cost: O(n + hours
covered) for n readings.
"""

from __future__ import annotations

import itertools
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

HOUR = 3_600.0
DAY = 86_400.0
WEEK = 604_800.0
#: Unix time of a Monday 00:00 UTC (5 Jan 1970): hour-of-week 0.
_MONDAY = 345_600.0
#: Coverage after which the hour-of-week profile is used.
WEEKLY_AFTER = WEEK
#: Coverage after which growth is looked for, and how sure it must be (standard errors).
GROWTH_AFTER = 14 * DAY
GROWTH_T = 4.0
#: The fastest growth or decline believed, per day.
MAX_GROWTH = 0.15
#: z of the 10th and 90th percentiles.
Z90 = 1.2815515655446004
#: The band's width for little data: this relative spread at one day of readings, shrinking
#: with the square root of the time covered.
SMALL_DATA = 0.25
#: And until a whole week is seen: how far a week's spending may stray from the days seen
#: (five workdays or a quiet weekend are 7/5 or 5/7 of the average).
UNSEEN_WEEK = 0.3
#: The widest relative spread used: a band from ~1/40 to ~40 times the forecast is already
#: "no idea", and wider would overflow.
MAX_SPREAD = 3.0
#: The least dispersion believed, in credits: spending comes in specs of 5 to 50 credits, so
#: a day's spending is never more regular than a Poisson count of such specs.
MIN_DISPERSION = 10.0

STEADY, DAILY, WEEKLY = "recent average", "daily average", "weekly"


class Spending:
    """What the readings say about spending: per-hour totals, and how much went up."""

    __slots__ = ("drops", "hours", "last_at", "observed", "rises")

    def __init__(self) -> None:
        #: Absolute UTC hour -> [credits spent, seconds observed].
        self.hours: dict[int, list[float]] = {}
        self.drops = 0.0
        self.rises = 0.0
        self.observed = 0.0
        self.last_at = 0.0


def spending(series: Sequence[tuple[float, float]], top_up_tolerance: float) -> Spending:
    """The spending between neighbouring readings of `series` (oldest first, distinct times),
    spread evenly over each gap and summed per UTC hour; gaps holding a top-up are left out."""
    out = Spending()
    hours = out.hours
    for (t0, b0), (t1, b1) in itertools.pairwise(series):
        spent = b0 - b1
        if spent < -top_up_tolerance:
            continue  # a top-up: how much was spent meanwhile is unknown
        if spent >= 0:
            out.drops += spent
        else:
            out.rises -= spent
        out.observed += t1 - t0
        rate = spent / (t1 - t0)
        at = t0
        while at < t1:
            hour = math.floor(at / HOUR)
            end = min(t1, (hour + 1) * HOUR)
            slot = hours.get(hour)
            if slot is None:
                hours[hour] = [rate * (end - at), end - at]
            else:
                slot[0] += rate * (end - at)
                slot[1] += end - at
            at = end
    out.last_at = series[-1][0] if series else 0.0
    return out


class Model:
    """A fitted spending model: the rate at any hour ahead of `start`, and its uncertainty."""

    __slots__ = (
        "by_day",
        "cover",
        "dispersion",
        "growth",
        "growth_se",
        "kind",
        "level",
        "profile",
        "spent",
        "start",
    )

    def __init__(self) -> None:
        self.kind = STEADY
        #: Credits per hour at `start`, on an average hour of the week.
        self.level = 0.0
        #: 168 factors, mean 1, by hour of the week (Monday 00:00 UTC first); None: flat.
        self.profile: list[float] | None = None
        #: Relative growth per second (0: none), its standard error, and how long it was seen.
        self.growth = 0.0
        self.growth_se = 0.0
        self.cover = 0.0
        #: Variance over mean of the spending per block, in credits; total credits fitted.
        self.dispersion = 0.0
        self.spent = 0.0
        self.start = 0.0
        #: Whether the days of the week were told apart (a week, or workdays and a weekend).
        self.by_day = False

    def factor(self, hour_of_week: int) -> float:
        return 1.0 if self.profile is None else self.profile[hour_of_week]

    def by_weekday(self) -> tuple[float, ...] | None:
        """Credits per UTC day, Monday first, at the current level; None until the days of the
        week were told apart."""
        if self.profile is None or not self.by_day:
            return None
        return tuple(self.level * sum(self.profile[d * 24 : d * 24 + 24]) for d in range(7))

    def spread(self, horizon: float, remaining: float) -> float:
        """The relative standard deviation of the spending over the next `horizon` seconds,
        whose expected total is `remaining` credits."""
        process = self.dispersion / max(remaining, 1e-9)
        level = self.dispersion / max(self.spent, 1e-9)
        seen = min(horizon, self.cover)
        growth = (self.growth_se * seen / 2) ** 2
        small = (SMALL_DATA * math.sqrt(DAY / max(self.cover, HOUR))) ** 2
        cycle = UNSEEN_WEEK**2 if self.cover < WEEKLY_AFTER else 0.0
        return min(math.sqrt(process + level + growth + small + cycle), MAX_SPREAD)


def hour_of_week(hour: int) -> int:
    """The hour of the week (0 = Monday 00:00-01:00 UTC) of an absolute UTC hour."""
    return int((hour * HOUR - _MONDAY) // HOUR) % 168


def fit(spent: Spending, cover: float) -> Model:
    """The model of `spent`, whose readings cover `cover` seconds (see the module)."""
    model = Model()
    model.start = spent.last_at
    model.cover = cover
    hours = spent.hours
    if not hours:
        return model
    last = max(hours)
    if cover >= WEEKLY_AFTER:
        model.kind = WEEKLY
        used = hours
        model.profile = _profile(hours)
        model.by_day = True
    elif cover >= DAY:
        model.kind = DAILY
        whole = int(cover // DAY)
        used = {h: v for h, v in hours.items() if h > last - 24 * whole}
        model.profile, model.by_day = _daily_profile(used)
    else:
        used = hours
    blocks = _blocks(used, last, model)
    total = sum(y for y, _, _ in blocks)
    weight = sum(e for _, e, _ in blocks)
    model.spent = max(total, 0.0)
    if weight <= 0:
        return model
    # A profile fitted to k weeks shrinks each day's miss by about 1 - 1/k.
    weeks = cover / WEEK
    overfit = min(weeks / (weeks - 1), 5.0) if model.kind == WEEKLY and weeks > 1 else 1.0
    overfit = 5.0 if model.kind == WEEKLY and weeks <= 1.25 else overfit
    growth, se = 0.0, math.inf
    if cover >= GROWTH_AFTER and model.kind == WEEKLY and total > 0:
        phi = _dispersion(blocks, _level(blocks, 0.0), 0.0, overfit=overfit)
        growth, se = _growth(_weeks(hours, last, cover), phi)
        if se > 0 and abs(growth) >= GROWTH_T * se:
            # The profile averaged the growth in (the later hours of the week look busier):
            # take it again with the growth taken out.
            model.profile = _profile(hours, growth / 24, last)
            blocks = _blocks(used, last, model)
    level = _level(blocks, growth)
    model.dispersion = _dispersion(blocks, level, growth, overfit=overfit)
    if math.isfinite(se) and se > 0:
        model.growth_se = se / DAY
    if se > 0 and abs(growth) >= GROWTH_T * se:
        model.growth = growth / DAY
        model.level = level
    else:
        model.level = _level(blocks, 0.0)
        model.dispersion = _dispersion(blocks, model.level, 0.0, overfit=overfit)
    return model


def _profile(hours: dict[int, list[float]], growth: float = 0.0, last: int = 0) -> list[float]:
    """The spending rate of each hour of the week, over its mean, with `growth` per hour
    (before `last`) taken out; an hour never observed takes the mean."""
    spent = [0.0] * 168
    seen = [0.0] * 168
    for hour, (credits, seconds) in hours.items():
        h = hour_of_week(hour)
        spent[h] += credits * math.exp(growth * (last - hour)) if growth else credits
        seen[h] += seconds
    rates = [spent[h] / seen[h] if seen[h] > 0 else None for h in range(168)]
    known = [r for r in rates if r is not None]
    mean = sum(known) / len(known) if known else 0.0
    filled = [mean if r is None else max(r, 0.0) for r in rates]
    average = sum(filled) / 168
    if average <= 0:
        return [1.0] * 168
    return [r / average for r in filled]


def _daily_profile(hours: dict[int, list[float]]) -> tuple[list[float] | None, bool]:
    """Before a whole week is seen: when in the day credits go (UTC hour of day), and one rate
    for workdays and one for weekends once half a day of each was seen (a workday's rate is
    not carried across a weekend seen quiet); as 168 factors over their weekly mean, or None
    when nothing was spent. Hours left out (a top-up's gap, often a quiet night) then weigh
    as little as the hours like them, instead of making the rest look busier. Also whether
    workdays and weekends were told apart."""
    spent_hod, seen_hod = [0.0] * 24, [0.0] * 24
    spent_kind, seen_kind = [0.0, 0.0], [0.0, 0.0]
    for hour, (credits, seconds) in hours.items():
        h = hour_of_week(hour)
        spent_hod[h % 24] += credits
        seen_hod[h % 24] += seconds
        spent_kind[h >= 120] += credits
        seen_kind[h >= 120] += seconds
    rates = [spent_hod[h] / seen_hod[h] if seen_hod[h] > 0 else None for h in range(24)]
    known = [r for r in rates if r is not None]
    mean = sum(known) / len(known) if known else 0.0
    day = [max(mean if r is None else r, 0.0) for r in rates]
    if sum(day) <= 0:
        return None, False
    kinds, apart = [1.0, 1.0], min(seen_kind) >= DAY / 2
    if apart:
        kinds = [max(spent_kind[k] / seen_kind[k], 0.0) for k in (0, 1)]
    week = [day[h % 24] * kinds[h >= 120] for h in range(168)]
    average = sum(week) / 168
    return ([f / average for f in week], apart) if average > 0 else (None, False)


def _blocks(
    hours: dict[int, list[float]], last: int, model: Model
) -> list[tuple[float, float, float]]:
    """Whole days back from the newest hour (or single hours when the readings cover less than
    two days): (credits spent, credits expected at level 1 credit/hour, days before the end)."""
    size = 24 if model.cover >= 2 * DAY else 1
    blocks: dict[int, list[float]] = {}
    for hour, (credits, seconds) in hours.items():
        key = (last - hour) // size
        block = blocks.get(key)
        expected = seconds / HOUR * model.factor(hour_of_week(hour))
        if block is None:
            blocks[key] = [credits, expected]
        else:
            block[0] += credits
            block[1] += expected
    return [(y, e, -(k + 0.5) * size / 24) for k, (y, e) in blocks.items() if e > 0]


def _level(blocks: list[tuple[float, float, float]], growth: float) -> float:
    """Credits per hour at the end, given `growth` per day."""
    weight = sum(e * math.exp(growth * tau) for _, e, tau in blocks)
    return max(sum(y for y, _, _ in blocks), 0.0) / weight if weight > 0 else 0.0


def _weeks(
    hours: dict[int, list[float]], last: int, cover: float
) -> list[tuple[float, float, float]]:
    """Whole weeks back from the newest hour, as blocks: each holds every hour of the week
    once, so the weekly cycle cancels out of a trend between them."""
    whole = int(cover // WEEK)
    weeks: dict[int, list[float]] = {}
    for hour, (credits, seconds) in hours.items():
        key = (last - hour) // 168
        if key < whole:
            week = weeks.setdefault(key, [0.0, 0.0])
            week[0] += credits
            week[1] += seconds / HOUR
    return [(y, e, -(k + 0.5) * 7) for k, (y, e) in weeks.items() if e > 0]


def _growth(blocks: list[tuple[float, float, float]], phi: float) -> tuple[float, float]:
    """The growth per day that best explains the blocks (the likelihood of spending
    proportional to `e` times exp(growth * days)), and its standard error (per day) given the
    dispersion `phi` of the spending."""
    total = sum(y for y, _, _ in blocks)
    if len(blocks) < 2 or total <= 0:
        return 0.0, math.inf
    target = sum(y * tau for y, _, tau in blocks) / total

    def mean_tau(g: float) -> float:
        weights = [e * math.exp(g * tau) for _, e, tau in blocks]
        return sum(w * tau for w, (_, _, tau) in zip(weights, blocks, strict=True)) / sum(weights)

    low, high = -MAX_GROWTH, MAX_GROWTH
    if target <= mean_tau(low):
        growth = low
    elif target >= mean_tau(high):
        growth = high
    else:
        for _ in range(40):
            middle = (low + high) / 2
            if mean_tau(middle) < target:
                low = middle
            else:
                high = middle
        growth = (low + high) / 2
    level = _level(blocks, growth)
    means = [level * e * math.exp(growth * tau) for _, e, tau in blocks]
    mass = sum(means)
    if mass <= 0 or phi <= 0:
        return growth, math.inf
    centre = sum(m * tau for m, (_, _, tau) in zip(means, blocks, strict=True)) / mass
    spread = sum(m * (tau - centre) ** 2 for m, (_, _, tau) in zip(means, blocks, strict=True))
    information = spread / phi
    return growth, (1 / math.sqrt(information) if information > 0 else math.inf)


def _dispersion(
    blocks: list[tuple[float, float, float]],
    level: float,
    growth: float,
    parameters: int = 1,
    overfit: float = 1.0,
) -> float:
    """How much the blocks' spending strays from the model: the squared misses over the
    expected spending (credits), so the busy blocks (a batch day) weigh as much as they
    spend. Averaging each block's own ratio instead would let a week of quiet days, each
    expected near zero, outvote the one day that decides the runway. `overfit` undoes the
    shrinking of the misses by a profile fitted to these same blocks; MIN_DISPERSION bounds
    it below."""
    squared = expected = 0.0
    for y, e, tau in blocks:
        mean = level * e * math.exp(growth * tau)
        squared += (y - mean) ** 2
        expected += mean
    free = len(blocks) - parameters
    if free <= 0 or expected <= 0:
        return MIN_DISPERSION
    return max(MIN_DISPERSION, squared / expected * len(blocks) / free * overfit)


def project(
    model: Model, targets: Sequence[float], limit: float
) -> tuple[list[float | None], list[tuple[float, float]]]:
    """Seconds after `model.start` at which the spending reaches each of `targets` (ascending,
    credits; None beyond `limit` seconds), and the (seconds, credits spent) points walked."""
    found: list[float | None] = [None] * len(targets)
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    if model.level <= 0:
        return found, points
    growth, cover, start = model.growth, model.cover, model.start
    done, at, credits = 0, 0.0, 0.0
    hour = math.floor(start / HOUR)
    while done < len(targets) and at <= limit:
        grown = math.exp(growth * min(at, cover))
        if growth == 0 or at >= cover:
            week = model.level * grown * 168
            skip = math.floor((targets[done] - credits) / week) - 1 if week > 0 else 0
            if skip >= 1:
                at += skip * WEEK
                credits += skip * week
                hour += skip * 168
                points.append((at, credits))
                continue
        end = (hour + 1) * HOUR - start
        rate = model.level * grown * model.factor(hour_of_week(hour)) / HOUR
        step = rate * (end - at)
        while done < len(targets) and credits + step >= targets[done]:
            found[done] = at + (targets[done] - credits) / rate if rate > 0 else at
            done += 1
        at, credits, hour = end, credits + step, hour + 1
        points.append((at, credits))
    return [None if f is not None and f > limit else f for f in found], points
