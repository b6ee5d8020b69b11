"""How a team spends credits, learned from balance readings, and walked forward to the floor.

The balance is not the thing to model: top-ups and refunds move it without changing how fast
the team spends. So the readings become *spending*: each pair of neighbouring readings says
how much was spent between them (a drop), or that credits came back (a rise). A rise of at most
`top_up_tolerance` credits is a refund and is netted against the spending; a larger rise is a
top-up, and the spending inside that gap is unknown: it is taken at the pace seen at the same
hour of the week (`Spending.fill`), so a quiet night's gap stays quiet and the gap does not
look like time unseen. Nothing else is lost at a top-up: the spending before it still tells
how fast the team spends after it.

The spending of each gap is spread evenly over its time and summed into UTC hours. From the
hours the model learns, in order:

- **When in the week credits go.** Once the readings cover a week (WEEKLY_AFTER), the spending
  rate of each of the 168 hours of the week (a weekly batch, office hours, quiet weekends).
  Before that, an average over the newest whole days, shaped by the hour of the day (a
  workday's afternoon is never taken for the whole day), one for workdays and one for
  weekends once half a day of each was seen (a workday's rate is not carried across a weekend
  that was seen quiet; one not yet seen takes the nights' rate, so a team that rests at night
  rests at weekends); under a day, the average over all the readings.
- **Growth or decline.** Between whole weeks (each holds the weekly cycle once, so the cycle
  cancels) or between days held against the hour-of-day shape, whichever tells it more surely
  (two to four weeks are few numbers; a weekly batch's days are too uneven to tell anything),
  the rate may grow or shrink exponentially: fitted by the likelihood of an
  over-dispersed Poisson model (weeks with nothing spent count, which a log-linear fit cannot
  take), with the dispersion of the daily spending, and used only when it is at least
  GROWTH_T standard errors from zero, so a steady pattern does not turn noisy. A rise less sure
  than that is carried shrunk by its doubt (GROWTH_SHRINK), from a week of readings (between
  days before two weeks); a decline only when sure; what is not carried widens the band on its
  side. Growth is carried forward for at most as long as it was seen.
- **How noisy the spending is**, from how far each day's spending strays from the model: this
  and the uncertainty of the fitted level and growth give the band (P10-P90), whose early end
  also allows for growth not seen yet (UNSEEN_GROWTH).

`Walk` then adds the model up hour by hour ahead (while growth still changes it, then one
week that repeats), so when the spending reaches the balance above the floor is a bisection.

Pure: no clock, no I/O, nothing imported but `bisect`, `itertools` and `math`. Cost: O(n + hours
covered) for n readings.
"""

from __future__ import annotations

import bisect
import itertools
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

HOUR = 3_600.0
DAY = 86_400.0
WEEK = 604_800.0
#: The UTC hour (since 1970) of a Monday 00:00 (5 Jan 1970): hour-of-week 0.
_MONDAY_HOUR = 96
#: The profile of a model that does not tell the hours apart.
_FLAT = [1.0] * 168
#: Beyond this many weeks ahead, a target is never reached (the callers stop at 10 years).
MAX_WEEKS = 1e6
#: Coverage after which the hour-of-week profile is used.
WEEKLY_AFTER = WEEK
#: Coverage after which growth is looked for, and how sure it must be (standard errors).
GROWTH_AFTER = 14 * DAY
GROWTH_T = 4.0
#: A rise short of GROWTH_T is carried shrunk by 1 - (GROWTH_SHRINK / t)^2 at t standard errors:
#: none up to 1.5, half at 2.1, 86 % at 4.
GROWTH_SHRINK = 1.5
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
#: Growth no one has seen yet, per second: use can start to grow any day (a team adopting the
#: tool), so the band's early end allows for 3.5 %/day over the horizon, less the growth the
#: model already carries. Declines get no such allowance: a runway that comes early is the
#: costly miss.
UNSEEN_GROWTH = 0.035 / DAY
#: The spread's parts overlap (the same days give the dispersion and the level), so their sum
#: is scaled to hold the truth about 8 times in 10 (measured: `bench/runway_eval.py`).
BAND_SCALE = 0.85
#: The widest relative spread used: a band from ~1/40 to ~40 times the forecast is already
#: "no idea", and wider would overflow.
MAX_SPREAD = 3.0
#: The least dispersion believed, in credits: spending comes in specs of 5 to 50 credits, so
#: a day's spending is never more regular than a Poisson count of such specs.
MIN_DISPERSION = 10.0

STEADY, DAILY, WEEKLY = "recent average", "daily average", "weekly"

#: An hour of spending: (absolute UTC hour, hour of the week, credits spent, seconds observed).
_Row = tuple[int, int, float, float]


class Spending:
    """What the readings say about spending: per-hour totals, and how much went up."""

    __slots__ = ("drops", "hours", "last_at", "left_out", "observed", "rises")

    def __init__(self) -> None:
        #: Absolute UTC hour -> [credits spent, seconds observed].
        self.hours: dict[int, list[float]] = {}
        self.drops = 0.0
        self.rises = 0.0
        self.observed = 0.0
        self.last_at = 0.0
        #: The gaps left out for holding a top-up, as (start, end).
        self.left_out: list[tuple[float, float]] = []

    def fill(self) -> None:
        """Take the gaps left out as spent at the pace seen at the same hour of the week (else
        of the day, else on average): a top-up does not change how fast a team spends, and a
        gap left out would look like time unseen, raising a doubt that could outweigh the
        credits bought. A quiet night's gap stays quiet."""
        if not self.left_out:
            return
        credits_at, seconds_at = _tally(
            [
                (hour, hour_of_week(hour), credits, seconds)
                for hour, (credits, seconds) in self.hours.items()
            ]
        )
        # The hour of the day is the hour of the week's modulo 24 (the week starts at midnight).
        daily = [(sum(credits_at[d::24]), sum(seconds_at[d::24])) for d in range(24)]
        average = max(self.drops - self.rises, 0.0) / self.observed if self.observed else 0.0

        def pace(hour: int) -> float:
            slot = hour_of_week(hour)
            for credits, seconds in ((credits_at[slot], seconds_at[slot]), daily[slot % 24]):
                if seconds > 0:
                    return max(credits, 0.0) / seconds
            return average

        for start, end in self.left_out:
            moment = start
            while moment < end:
                hour = int(moment // HOUR)
                stop = min((hour + 1) * HOUR, end)
                spent = pace(hour) * (stop - moment)
                _add(self.hours, hour, spent, stop - moment)
                self.drops += spent
                self.observed += stop - moment
                moment = stop
        self.left_out = []


def spending(series: Sequence[tuple[float, float]], top_up_tolerance: float) -> Spending:
    """The spending between neighbouring readings of `series` (oldest first, distinct times),
    spread evenly over each gap and summed per UTC hour; gaps holding a top-up are left out."""
    out = Spending()
    hours = out.hours
    drops = rises = observed = 0.0
    # Most gaps lie within one hour (a busy history reads every few seconds): those add up
    # here, and reach `hours` when the hour changes.
    current, current_end, current_spent, current_seen = -1, -math.inf, 0.0, 0.0
    for (t0, b0), (t1, b1) in itertools.pairwise(series):
        spent = b0 - b1
        if spent < -top_up_tolerance:
            out.left_out.append((t0, t1))  # a top-up: how much was spent meanwhile is unknown
            continue
        if spent >= 0:
            drops += spent
        else:
            rises -= spent
        gap = t1 - t0
        observed += gap
        if t1 <= current_end:  # t0 is at or after the start of the current hour
            current_spent += spent
            current_seen += gap
            continue
        if current >= 0:
            _add(hours, current, current_spent, current_seen)
        hour = int(t0 // HOUR)
        end = (hour + 1) * HOUR
        if t1 <= end:
            current, current_end, current_spent, current_seen = hour, end, spent, gap
            continue
        current, current_end = -1, -math.inf
        rate = spent / gap
        _add(hours, hour, rate * (end - t0), end - t0)  # the first hour may hold earlier gaps
        at, hour = end, hour + 1
        while at < t1:  # the later hours are new: no earlier gap reached them
            end = (hour + 1) * HOUR
            end = t1 if t1 < end else end
            hours[hour] = [rate * (end - at), end - at]
            at, hour = end, hour + 1
    if current >= 0:
        _add(hours, current, current_spent, current_seen)
    out.drops, out.rises, out.observed = drops, rises, observed
    out.last_at = series[-1][0] if series else 0.0
    return out


def _add(hours: dict[int, list[float]], hour: int, spent: float, seen: float) -> None:
    slot = hours.get(hour)
    if slot is None:
        hours[hour] = [spent, seen]
    else:
        slot[0] += spent
        slot[1] += seen


class Model:
    """A fitted spending model: the rate at any hour ahead of `start`, and its uncertainty."""

    __slots__ = (
        "by_day",
        "cover",
        "dispersion",
        "drift",
        "growth",
        "growth_se",
        "kind",
        "level",
        "measured",
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
        #: A change of the rate per second that the data hints at but the model does not carry
        #: (too unsure to forecast with): it widens the band on its side, not the middle.
        self.drift = 0.0
        #: The growth per day the data showed and its standard error, before it was judged
        #: (carried, shrunk or left out): (0, inf) when none was measured. The evaluation
        #: reports how surely growth shows (`bench/runway_eval.py --growth-evidence`).
        self.measured = (0.0, math.inf)
        self.cover = 0.0
        #: Variance over mean of the spending per block, in credits; total credits fitted.
        self.dispersion = 0.0
        self.spent = 0.0
        self.start = 0.0
        #: Whether the days of the week were told apart (a week, or workdays and a weekend).
        self.by_day = False

    def factors(self) -> list[float]:
        """The 168 factors by hour of the week; all 1 when the model has no profile."""
        return _FLAT if self.profile is None else self.profile

    def by_weekday(self) -> tuple[float, ...] | None:
        """Credits per UTC day, Monday first, at the current level; None until the days of the
        week were told apart."""
        if self.profile is None or not self.by_day:
            return None
        return tuple(self.level * sum(self.profile[d * 24 : d * 24 + 24]) for d in range(7))

    def spread(self, horizon: float, remaining: float) -> tuple[float, float, float]:
        """The relative standard deviation of the spending over the next `horizon` seconds,
        whose expected total is `remaining` credits: toward faster spending (the band's early
        end), toward slower (its late end), and the part the two sides share (the noise and
        what is unsure in the fit, without the allowances for growth on one side)."""
        process = self.dispersion / max(remaining, 1e-9)
        level = self.dispersion / max(self.spent, 1e-9)
        seen = min(horizon, self.cover)
        # Squares as products: they overflow to infinity (then MAX_SPREAD), where ** raises.
        growth = _square(self.growth_se * seen / 2)
        small = cycle = 0.0
        if self.cover < WEEKLY_AFTER:
            small = (SMALL_DATA * math.sqrt(DAY / max(self.cover, HOUR))) ** 2
            cycle = (UNSEEN_WEEK / 2 if self.by_day else UNSEEN_WEEK) ** 2
        both = (process + level + growth + small + cycle) * BAND_SCALE**2
        drift = _square(self.drift * seen / 2)
        unseen = max(UNSEEN_GROWTH - self.growth, 0.0) * horizon / 2
        faster = both + _square(unseen) + (drift if self.drift > 0 else 0.0)
        slower = both + (drift if self.drift < 0 else 0.0)
        faster, slower, both = (min(math.sqrt(v), MAX_SPREAD) for v in (faster, slower, both))
        return faster, slower, both


def _square(value: float) -> float:
    """`value` squared, infinite where it overflows (`**` raises OverflowError instead)."""
    return value * value


def hour_of_week(hour: int) -> int:
    """The hour of the week (0 = Monday 00:00-01:00 UTC) of an absolute UTC hour."""
    return (hour - _MONDAY_HOUR) % 168


def fit(spent: Spending, cover: float) -> Model:
    """The model of `spent`, whose readings cover `cover` seconds (see the module); the gaps it
    left out for top-ups are filled first (`Spending.fill`)."""
    spent.fill()
    model = Model()
    model.start = spent.last_at
    model.cover = cover
    hours = spent.hours
    if not hours:
        return model
    # Oldest first (as `spending` adds them, so sorting costs one pass), hour of week once.
    rows = sorted(
        (hour, hour_of_week(hour), credits, seconds) for hour, (credits, seconds) in hours.items()
    )
    last = rows[-1][0]
    used = rows
    if cover >= WEEKLY_AFTER:
        model.kind = WEEKLY
        tally = _tally(rows)
        model.profile = _profile(*tally)
        model.by_day = True
    elif cover >= DAY:
        model.kind = DAILY
        whole = int(cover // DAY)
        used = [row for row in rows if row[0] > last - 24 * whole]
        model.profile, model.by_day = _daily_profile(*_tally(used))
    blocks = _blocks(used, last, model.factors(), cover)
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
    if model.kind == WEEKLY and total > 0:
        growth, se = _daily_growth(rows, tally, last, cover)
        if cover >= GROWTH_AFTER:
            # Two to four whole weeks are few blocks, but they cancel the weekly cycle, which
            # the days cannot (a weekly batch's days are too uneven to tell growth, and say so
            # by their dispersion): the surer of the two is taken.
            phi = _dispersion(blocks, _level(blocks, 0.0), 0.0, overfit=overfit)
            by_weeks, se_weeks = _growth(_weeks(blocks, int(cover // WEEK)), phi)
            if se_weeks <= se:
                growth, se = by_weeks, se_weeks
            if se > 0 and abs(growth) >= GROWTH_T * se:
                # The profile averaged the growth in (the later hours of the week look
                # busier): take it again with the growth taken out.
                model.profile = _profile(*_tally(rows, growth / 24, last))
                blocks = _blocks(used, last, model.factors(), cover)
        model.measured = (growth, se)
    _settle(model, blocks, growth, se, overfit)
    return model


def _daily_growth(
    rows: list[_Row], tally: tuple[list[float], list[float]], last: int, cover: float
) -> tuple[float, float]:
    """Growth per day and its standard error between days. With few weeks the hour-of-week
    profile soaks up growth, so days are held against the hour-of-day and workday/weekend
    shape (from `tally`) instead."""
    shape, _ = _daily_profile(*tally)
    days = _blocks(rows, last, shape or _FLAT, cover)
    growth, se = _growth(days, 1.0)
    # The standard error scales with the square root of the dispersion.
    phi = _dispersion(days, _level(days, growth), growth, parameters=2)
    return growth, se * math.sqrt(phi)


def _settle(
    model: Model, blocks: list[tuple[float, float, float]], growth: float, se: float, overfit: float
) -> None:
    """The level and growth `model` carries forward, given the growth found (per day) and its
    standard error: whole when sure, shrunk when not (see GROWTH_SHRINK), none when noise."""
    sure = se > 0 and abs(growth) >= GROWTH_T * se and model.cover >= GROWTH_AFTER
    if sure:
        level = _level(blocks, growth)
        model.dispersion = _dispersion(blocks, level, growth, overfit=overfit)
        model.growth = growth / DAY
        model.growth_se = se / DAY
        model.level = level
    else:
        model.level = _level(blocks, 0.0)
        model.dispersion = _dispersion(blocks, model.level, 0.0, overfit=overfit)
        if math.isfinite(se) and growth:
            # A rise too unsure to carry whole: shrunk toward none by how unsure it is (a
            # steady team's noise is left out). A decline lengthens the runway, so it is carried
            # only when sure (a busy first week, then a quiet weekend, looks like one). What is
            # left out widens the band on its side.
            shrunk = max(0.0, growth * max(0.0, 1 - _square(GROWTH_SHRINK * se / growth)))
            if shrunk:
                model.growth = shrunk / DAY
                model.level = _level(blocks, shrunk)
            model.drift = (growth - shrunk) / DAY


def _tally(rows: list[_Row], growth: float = 0.0, last: int = 0) -> tuple[list[float], list[float]]:
    """Credits spent and seconds observed by hour of the week, with `growth` per hour (before
    `last`) taken out."""
    spent = [0.0] * 168
    seen = [0.0] * 168
    for hour, how, credits, seconds in rows:
        spent[how] += credits * math.exp(growth * (last - hour)) if growth else credits
        seen[how] += seconds
    return spent, seen


def _profile(spent: list[float], seen: list[float]) -> list[float]:
    """The spending rate of each hour of the week, over its mean; an hour never observed
    takes the mean."""
    rates = [spent[h] / seen[h] if seen[h] > 0 else None for h in range(168)]
    known = [r for r in rates if r is not None]
    mean = sum(known) / len(known) if known else 0.0
    filled = [mean if r is None else max(r, 0.0) for r in rates]
    average = sum(filled) / 168
    if average <= 0:
        return [1.0] * 168
    return [r / average for r in filled]


def _daily_profile(
    spent_by_how: list[float], seen_by_how: list[float]
) -> tuple[list[float] | None, bool]:
    """Before a whole week is seen: when in the day credits go (UTC hour of day), for workdays
    and for weekends apart once half a day of each was seen (a workday's rate is not carried
    across a weekend seen quiet, nor a weekend's quiet afternoon into a workday's); as 168
    factors over their weekly mean, or None when nothing was spent. An hour of the day not
    seen yet takes the mean of its kind of day. A weekend not seen yet takes the workdays'
    shape at the share of their quiet hours: a team that rests at night likely rests at
    weekends too (a team busy round the clock keeps its rate). Hours partly observed (the
    first and the last) weigh as little as the hours like them, instead of making the rest
    look busier. Also whether workdays and weekends were told apart."""
    # Hour d of the workdays is every 24th hour of the week from d until Saturday (hour 120).
    kinds = ((0, 120), (120, 168))
    spent = [[sum(spent_by_how[lo + d : hi : 24]) for d in range(24)] for lo, hi in kinds]
    seen = [[sum(seen_by_how[lo + d : hi : 24]) for d in range(24)] for lo, hi in kinds]

    def shape(credits: list[float], seconds: list[float]) -> list[float]:
        """Rates by hour of the day; unseen hours take their mean."""
        mean = sum(credits) / max(sum(seconds), 1e-9)
        return [max(c / s if s > 0 else mean, 0.0) for c, s in zip(credits, seconds, strict=True)]

    workdays, weekends = (sum(seen[k]) >= DAY / 2 for k in (0, 1))
    apart = workdays and weekends
    if apart:
        days = [shape(spent[0], seen[0]), shape(spent[1], seen[1])]
    elif workdays:
        work = shape(spent[0], seen[0])
        total = sum(work)
        share = sum(sorted(work)[:12]) / total * 2 if total > 0 else 1.0
        days = [work, [rate * share for rate in work]]
    else:
        pooled = shape(
            [a + b for a, b in zip(*spent, strict=True)],
            [a + b for a, b in zip(*seen, strict=True)],
        )
        days = [pooled, pooled]
    week = [days[h >= 120][h % 24] for h in range(168)]
    average = sum(week) / 168
    return ([f / average for f in week], apart) if average > 0 else (None, False)


def _blocks(
    rows: list[_Row], last: int, profile: list[float], cover: float
) -> list[tuple[float, float, float]]:
    """Whole days back from the newest hour `last` of `rows` (oldest first), or single hours
    when the readings cover less than two days: (credits spent, credits expected at level 1
    credit/hour with these 168 factors, days before the end)."""
    size = 24 if cover >= 2 * DAY else 1
    count = (last - rows[0][0]) // size + 1
    spent, expected = [0.0] * count, [0.0] * count  # expected in credit-seconds per hour
    for hour, how, credits, seconds in rows:
        key = (last - hour) // size
        spent[key] += credits
        expected[key] += seconds * profile[how]
    return [
        (y, e / HOUR, -(k + 0.5) * size / 24)
        for k, (y, e) in enumerate(zip(spent, expected, strict=True))
        if e > 0
    ]


def _level(blocks: list[tuple[float, float, float]], growth: float) -> float:
    """Credits per hour at the end, given `growth` per day."""
    weight = sum(e * math.exp(growth * tau) for _, e, tau in blocks)
    return max(sum(y for y, _, _ in blocks), 0.0) / weight if weight > 0 else 0.0


def _weeks(days: list[tuple[float, float, float]], whole: int) -> list[tuple[float, float, float]]:
    """The `whole` weeks back from the newest hour, as blocks summed from the day blocks: each
    holds every hour of the week once, so the weekly cycle cancels out of a trend between
    them (and an hour partly observed is missed as much as the profile says)."""
    spent, expected = [0.0] * whole, [0.0] * whole
    for y, e, tau in days:
        week = int(-tau) // 7  # day k back has tau -(k + 0.5)
        if week < whole:
            spent[week] += y
            expected[week] += e
    return [(spent[k], expected[k], -(k + 0.5) * 7) for k in range(whole) if expected[k] > 0]


def _growth(blocks: list[tuple[float, float, float]], phi: float) -> tuple[float, float]:
    """The growth per day that best explains the blocks (the likelihood of spending
    proportional to `e` times exp(growth * days)), and its standard error (per day) given the
    dispersion `phi` of the spending."""
    total = sum(y for y, _, _ in blocks)
    if len(blocks) < 2 or total <= 0:
        return 0.0, math.inf
    target = sum(y * tau for y, _, tau in blocks) / total
    exposures = [e for _, e, _ in blocks]
    taus = [tau for _, _, tau in blocks]

    def moments(g: float) -> tuple[float, float]:
        """The mean and variance of the blocks' days, weighted by the spending expected."""
        weights = [e * math.exp(g * tau) for e, tau in zip(exposures, taus, strict=True)]
        mass = sum(weights)
        mean = sum(w * tau for w, tau in zip(weights, taus, strict=True)) / mass
        spread = sum(w * (tau - mean) ** 2 for w, tau in zip(weights, taus, strict=True)) / mass
        return mean, spread

    # The likelihood's maximum is where the expected mean day is the spent one; the mean day
    # grows with g (its slope is the variance), so Newton's steps, kept inside a shrinking
    # bracket, find it in a few steps.
    low, high = -MAX_GROWTH, MAX_GROWTH
    if target <= moments(low)[0]:
        growth = low
    elif target >= moments(high)[0]:
        growth = high
    else:
        growth = 0.0
        for _ in range(60):
            mean, spread = moments(growth)
            if mean < target:
                low = growth
            else:
                high = growth
            step = (target - mean) / spread if spread > 0 else math.inf
            if abs(step) < 1e-12 or high - low < 1e-12:
                break
            guess = growth + step
            growth = guess if low < guess < high else (low + high) / 2
    if phi <= 0:
        return growth, math.inf
    # The information about the growth is the spending expected (the total spent, at the
    # likelihood's maximum) times the variance of its days, over the dispersion.
    information = total * moments(growth)[1] / phi
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


class Walk:
    """The model walked forward from `model.start`: the credits expected to be spent by any
    time ahead, and when they add up to a target. Hour by hour while the rate still grows
    (at most the time covered), then a week that repeats: O(hours covered + 168) to build,
    O(log) to ask."""

    __slots__ = ("cumulative", "period", "times", "weekly")

    def __init__(self, model: Model) -> None:
        level, growth, cover = model.level, model.growth, model.cover
        hour = math.floor(model.start / HOUR)
        factors, how = model.factors(), hour_of_week(hour)
        #: Hour boundaries (seconds after the start) and the credits expected by each.
        times, cumulative = [0.0], [0.0]
        at = credits = 0.0
        period = 1  # the first boundary after which every week repeats the one before
        while True:
            end = (hour + 1) * HOUR - model.start
            grown = math.exp(growth * min(at, cover)) if growth else 1.0
            credits += level * grown * factors[how] * (end - at) / HOUR
            times.append(end)
            cumulative.append(credits)
            at, hour, how = end, hour + 1, (how + 1) % 168
            if growth and at < cover:
                period = len(times)
            elif len(times) > period + 168:
                break
        self.times, self.cumulative, self.period = times, cumulative, period
        self.weekly = cumulative[period + 168] - cumulative[period]

    def seconds_to(self, credits: float) -> float:
        """Seconds until the expected spending reaches `credits` (0 or more)."""
        cumulative, period = self.cumulative, self.period
        weeks = 0
        if credits > cumulative[-1]:
            ahead = (credits - cumulative[-1]) / self.weekly if self.weekly > 0 else math.inf
            if ahead > MAX_WEEKS:
                return math.inf
            weeks = math.ceil(ahead)
            credits = max(credits - weeks * self.weekly, cumulative[period])
        j = max(1, bisect.bisect_left(cumulative, credits))
        if j >= len(cumulative):
            j = len(cumulative) - 1
        t0, t1 = self.times[j - 1], self.times[j]
        c0, c1 = cumulative[j - 1], cumulative[j]
        share = (credits - c0) / (c1 - c0) if c1 > c0 else 0.0
        return weeks * WEEK + t0 + min(max(share, 0.0), 1.0) * (t1 - t0)

    def credits_by(self, seconds: float) -> float:
        """The credits expected to be spent in the `seconds` after the start."""
        times, cumulative = self.times, self.cumulative
        weeks = 0
        if seconds > times[-1]:
            weeks = math.ceil((seconds - times[-1]) / WEEK)
            seconds -= weeks * WEEK
        j = min(max(1, bisect.bisect_left(times, seconds)), len(times) - 1)
        t0, t1 = times[j - 1], times[j]
        share = (seconds - t0) / (t1 - t0) if t1 > t0 else 0.0
        within = cumulative[j - 1] + share * (cumulative[j] - cumulative[j - 1])
        return within + weeks * self.weekly
