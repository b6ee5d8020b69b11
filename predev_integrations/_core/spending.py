"""How a team spends credits, learned from balance readings, and walked forward to the floor.

One model, and every number is read from it. Specs arrive at a rate that depends on the hour of
the week; each costs what the vendor's page says (Fast 5-10, Deep 10-50) with the spread the
team shows; the rate may grow or shrink. Each part comes with how sure the readings make it:

- **Spending, not the balance.** Each pair of neighbouring readings says how much was spent in
  between (`spending`: what a model of exact events would take too, as intervals). A rise of at
  most `top_up_tolerance` credits is a refund, netted; a larger one is a top-up, and that gap is
  taken at the pace seen at the same hour of the week (`Spending.fill`). Gaps are spread evenly
  over their time and summed into UTC hours.
- **The rate by hour of the week** falls back toward the hour of the day, which falls back
  toward flat, by evidence (`_shrink`: empirical Bayes): each level's cells are pulled toward
  their parent by how far the cells differ beyond their own noise. Three specs in 17 days say
  nothing about a week; four weeks of office hours say it well. A level is *named* (`kind`) only
  when its cells differ from their parents more than noise would (`_told`).
- **The team's spread**: the dispersion (variance over mean, in credits) of its daily spending
  against the same day of the other weeks (`_Days.repeats`; before two weeks, around the
  model), blended with the vendor's spec costs by how many repeats were seen.
- **Growth** is a parameter with its uncertainty: measured between days (against the hour-of-day
  shape) and between whole weeks, the surer kept, then judged against a prior in which some
  teams grow and most do not (`_growth_posterior`). The posterior is kept as two branches
  (no growth; growth as measured, shrunk), each carried for the whole horizon.

From the model, `Walk` gives the spending expected by any time ahead along one branch (the
median path), and `Runway.reach` the time at which the chance that the spending has reached
the credits above the floor is a given one: in each branch log-normal around its path with the
process noise (a compound Poisson sum: relative variance dispersion / credits) and what is
unsure in the fit (the level, the hours of the week, growth over the horizon), the branches
mixed by weight.

Pure: no clock, no I/O, nothing imported but `bisect`, `itertools`, `math` and `defaults`. Cost:
O(n + hours covered) for n readings.
"""

from __future__ import annotations

import bisect
import itertools
import math

from .defaults import SPEC_COST_RANGE

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
_MOST_WEEKS = int(MAX_WEEKS)
#: The fastest growth or decline believed, per day.
MAX_GROWTH = 0.15
#: z of the 10th and 90th percentiles.
Z90 = 1.2815515655446004
#: The growth prior: the share of teams whose use grows or shrinks at all, and how fast they do
#: (standard deviation per day). Chosen on the evaluation's tuning seeds
#: (`bench/runway_tune.py`, bench/README.md).
GROWTH_SHARE = 0.5
GROWTH_SD = 0.05
#: A branch of the growth's posterior weighing less than this is dropped (its share of any
#: percentile the band shows is below what the grid resolves).
MIN_BRANCH = 1e-4
#: Readings must cover this long before growth is measured (between days, so at least two).
GROWTH_AFTER = 3 * DAY
#: The most relative variance an hour's rate is given (far beyond any band's reach).
MAX_DOUBT = 1e6
#: The widest log-spread used: a band from ~1/40 to ~40 times the median is already "no idea",
#: and wider would overflow.
MAX_SPREAD = 3.0
#: How many days of the vendor's spec costs the dispersion's prior weighs: the weight at which
#: the band holds the truth 8 times in 10 on a steady stream of specs (`bench/runway_tune.py`;
#: lighter, a dispersion read from a few days is plugged in as if known and the band
#: under-covers; at the 4 days used before, 83 % over-covered).
PRIOR_DAYS = 1.0
#: Growth from which the hours of the week are tallied again without it (per day): below,
#: it makes the end of a week look busier than its start by under 1.4 %.
DETREND = 0.002
#: Growth shown in `model` from this (per day): less reads as none.
SHOWN_GROWTH = 0.0005
#: Significance at which a level of the weekly pattern is named (`_told`), in standard
#: deviations of the noise alone.
TOLD_Z = 3.0

STEADY, DAILY, WEEKLY = "recent average", "daily average", "weekly"


def _cost_moments(low: int, high: int) -> tuple[float, float]:
    """Mean and mean square of a whole-credit cost drawn evenly from `low` to `high`."""
    mean = (low + high) / 2
    return mean, mean * mean + ((high - low + 1) ** 2 - 1) / 12


def _dispersion_of(deep_share: float) -> float:
    """Variance over mean of the spending (credits) of a stream of specs, deep_share Deep."""
    fast, fast2 = _cost_moments(*SPEC_COST_RANGE["fast"])
    deep, deep2 = _cost_moments(*SPEC_COST_RANGE["deep"])
    mean = deep_share * deep + (1 - deep_share) * fast
    return (deep_share * deep2 + (1 - deep_share) * fast2) / mean


#: The dispersion a team's spending starts from: half its specs Deep (the vendor's page).
SPEC_DISPERSION = _dispersion_of(0.5)
#: The least believed: Fast Specs only. Spending is never more regular than a count of specs.
MIN_DISPERSION = _dispersion_of(0.0)


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
        credits_at, seconds_at = _tally(_Hours(self.hours))
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
    """A fitted spending model: the rate at any hour ahead of `start`, and how sure it is."""

    __slots__ = (
        "branches",
        "by_day",
        "cell_var",
        "cover",
        "dispersion",
        "growing",
        "growth",
        "growth_var",
        "kind",
        "lag",
        "level",
        "measured",
        "profile",
        "spent",
        "start",
    )

    def __init__(self) -> None:
        #: The pattern the data tells from flat: STEADY, DAILY (by hour of the day) or WEEKLY.
        self.kind = STEADY
        #: Credits per hour at `start`, on an average hour of the week.
        self.level = 0.0
        #: 168 factors, mean 1, by hour of the week (Monday 00:00 UTC first); None: flat.
        self.profile: list[float] | None = None
        #: What is unsure in each factor (variance, in factor units), the level's part apart.
        self.cell_var: list[float] | None = None
        #: Relative growth per second carried forward, and its variance (per second squared).
        self.growth = 0.0
        self.growth_var = 0.0
        #: Whether the growth is told from none: measured TOLD_Z standard errors from it.
        self.growing = False
        #: The growth per day the data showed and its standard error, before it was judged
        #: against the prior: (0, inf) when none was measured.
        self.measured = (0.0, math.inf)
        self.cover = 0.0
        #: Variance over mean of the spending per day, in credits; total credits fitted.
        self.dispersion = SPEC_DISPERSION
        self.spent = 0.0
        self.start = 0.0
        #: Seconds from the middle of what was seen (weighted by the spending expected) to
        #: `start`: how far the level is carried to now, with the growth's doubt.
        self.lag = 0.0
        #: Whether the days of the week were told apart.
        self.by_day = False
        #: The growth's posterior as weighted branches, each a model of its own (level, growth,
        #: its variance, lag): the team that does not grow and the one that does, weighed by
        #: how well each explains the readings. The band is read from their mixture, not from
        #: one normal with the mixture's variance: a steady team's band stays as narrow as
        #: its likelier branch says, a growing one's moves to the growth. Empty: this model.
        self.branches: list[tuple[float, Model]] = []

    def factors(self) -> list[float]:
        """The 168 factors by hour of the week; all 1 when the model has no profile."""
        return _FLAT if self.profile is None else self.profile

    def by_weekday(self) -> tuple[float, ...] | None:
        """Credits per UTC day, Monday first, at the current level; None unless the days of
        the week were told apart."""
        if self.profile is None or not self.by_day:
            return None
        return tuple(self.level * sum(self.profile[d * 24 : d * 24 + 24]) for d in range(7))

    def log_spread(self, seconds: float, expected: float, pattern: float) -> tuple[float, float]:
        """The log-variance of the spending over the next `seconds`, `expected` credits at the
        fitted rate: the process's (a compound Poisson sum of specs: relative variance
        dispersion / credits; its median lies below its mean by a third of it, as a gamma's
        does) and the fit's (the level, the hours of the week as `pattern` says, the growth
        carried over the horizon, around which the fit is as likely high as low)."""
        # (max spelt out: asked for every step of `Runway.reach`.)
        process = math.log1p(self.dispersion / (1e-9 if expected < 1e-9 else expected))
        level = self.dispersion / (1e-9 if self.spent < 1e-9 else self.spent)
        carried = (self.lag + seconds / 2) * (self.lag + seconds / 2) * self.growth_var
        return process, math.log1p(level + pattern) + carried


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
    if not spent.hours:
        return model
    hours = _Hours(spent.hours)
    last = hours.hours[-1]
    psi, tally = _repeat_dispersion(hours)
    pattern = _pattern(*tally, psi)
    factors = _normalized(pattern.rates)
    days = _Days(hours, cover)
    blocks = days.blocks(factors)
    total = sum(y for y, _, _ in blocks)
    model.spent = max(total, 0.0)
    if total <= 0 or not blocks:
        return model
    growth, se = math.inf, math.inf
    if cover >= GROWTH_AFTER:
        # Between days held against the shape of workdays and weekends: many numbers, whose
        # spread says how surely they tell (a weekly batch's days are too uneven to tell
        # growth, and say so). From two whole weeks also between weeks, where the weekly
        # cycle cancels (what tells a batch team's growth); the surer of the two is taken.
        growth, se = _daily_growth(days, pattern.workdays)
        if cover >= 2 * WEEK:
            phi = _dispersion(blocks, _level(blocks, 0.0), 0.0, overfit=pattern.overfit(cover))
            by_weeks, se_weeks = _growth(_weeks(blocks, int(cover // WEEK)), phi)
            if se_weeks < se:
                growth, se = by_weeks, se_weeks
    model.measured = (growth, se) if math.isfinite(se) else (0.0, math.inf)
    components = _growth_posterior(*model.measured)
    mean = math.fsum(w * m for w, m, _ in components)
    variance = max(math.fsum(w * (v + m * m) for w, m, v in components) - mean * mean, 0.0)
    if abs(mean) >= DETREND:
        # The hours of the week average the growth in (the later ones look busier): tally
        # them again with the growth taken out.
        pattern = _pattern(*_tally(hours, mean / 24, last), psi)
        factors = _normalized(pattern.rates)
        blocks = days.blocks(factors)
    model.level = _level(blocks, mean)
    model.dispersion = _team_dispersion(days, blocks, model.level, mean, pattern.overfit(cover))
    model.growth, model.growth_var = mean / DAY, variance / (DAY * DAY)
    told = abs(model.measured[0]) >= TOLD_Z * model.measured[1]
    model.growing = told and abs(mean) >= SHOWN_GROWTH
    model.lag = _lag(blocks, mean)
    average = sum(pattern.rates) / 168
    if average > 0:
        model.profile = factors
        # (at most MAX_DOUBT: a subnormal rate's variance over its square would overflow)
        doubts = (v / average / average for v in pattern.variances)
        model.cell_var = [MAX_DOUBT if d > MAX_DOUBT else d for d in doubts]  # min, no calls
    model.kind = WEEKLY if pattern.weekly else DAILY if pattern.daily else STEADY
    model.by_day = pattern.weekly
    for weight, growth, var in components:
        branch = _copy(model)
        branch.level = _level(blocks, growth)
        branch.growth, branch.growth_var = growth / DAY, var / (DAY * DAY)
        branch.lag = _lag(blocks, growth)
        model.branches.append((weight, branch))
    return model


def _team_dispersion(
    days: _Days,
    blocks: list[tuple[float, float, float]],
    level: float,
    growth: float,
    overfit: float,
) -> float:
    """The process's dispersion: the weeks' own repeats (`_Days.repeats`), apart from what the
    profile misses (which is the pattern's doubt, `cell_var`), blended with the vendor's spec
    costs; before two whole weeks, the misses around the model (`_dispersion`)."""
    seen, free = days.repeats(growth)
    if free <= 0:
        return _dispersion(blocks, level, growth, overfit=overfit)
    blended = (PRIOR_DAYS * SPEC_DISPERSION + free * seen) / (PRIOR_DAYS + free)
    return max(MIN_DISPERSION, blended)


def _copy(model: Model) -> Model:
    """A shallow copy of `model` without its branches (a branch of it)."""
    out = Model()
    for name in Model.__slots__:
        setattr(out, name, getattr(model, name))
    out.branches = []
    return out


def _lag(blocks: list[tuple[float, float, float]], growth: float) -> float:
    """Seconds from the middle of the blocks (weighted by the spending expected under
    `growth` per day) to their end."""
    # Each block's weight once, in lists: sum takes them in one C loop, no generator.
    weights = [e * math.exp(growth * tau) for _, e, tau in blocks]
    weight = sum(weights)
    if weight <= 0:
        return 0.0
    return -sum([w * tau for w, (_, _, tau) in zip(weights, blocks, strict=True)]) / weight * DAY


def _daily_growth(days: _Days, workdays: list[float]) -> tuple[float, float]:
    """Growth per day and its standard error between days. With few weeks the hour-of-week
    profile soaks up growth, so days are held against `workdays` (`_Pattern.workdays`)."""
    blocks = days.blocks(_normalized(workdays))
    growth, se = _growth(blocks, 1.0)
    # The standard error scales with the square root of the dispersion.
    phi = _dispersion(blocks, _level(blocks, growth), growth, parameters=2)
    return growth, se * math.sqrt(phi)


def _growth_posterior(growth: float, se: float) -> list[tuple[float, float, float]]:
    """The growth per day carried forward, as the posterior's branches (weight, mean,
    variance), given the growth measured and its standard error: a prior in which
    GROWTH_SHARE of teams grow or shrink, at a pace drawn with GROWTH_SD, and the rest not at
    all. A steady team's noise leaves the no-growth branch almost all the weight; a growth
    many standard errors out goes almost whole to the growth branch; with nothing measured,
    the prior's own two. Branches of negligible weight (under MIN_BRANCH) are dropped."""
    prior = GROWTH_SD * GROWTH_SD
    if not math.isfinite(se) or se <= 0:
        return [(1 - GROWTH_SHARE, 0.0, 0.0), (GROWTH_SHARE, 0.0, prior)]
    noise = se * se
    if noise <= 0:  # measured exactly (an underflow): carried whole
        return [(1.0, min(max(growth, -MAX_GROWTH), MAX_GROWTH), 0.0)]
    # Likelihood ratio of "no growth" to "growth from the prior", in logs.
    spike = -0.5 * math.log(noise) - growth * growth / (2 * noise)
    slab = -0.5 * math.log(prior + noise) - growth * growth / (2 * (prior + noise))
    odds = math.log((1 - GROWTH_SHARE) / GROWTH_SHARE) + spike - slab
    share = 1 / (1 + math.exp(min(odds, 700.0)))
    shrink = prior / (prior + noise)
    slab_mean = min(max(growth * shrink, -MAX_GROWTH), MAX_GROWTH)
    branches = [(1 - share, 0.0, 0.0), (share, slab_mean, noise * shrink)]
    kept = [branch for branch in branches if branch[0] >= MIN_BRANCH]
    total = sum(w for w, _, _ in kept)
    return [(w / total, m, v) for w, m, v in kept]


class _Pattern:
    """The rate by hour of the week (credits per hour), what is unsure in each, and which
    levels the data told from their parents."""

    __slots__ = ("daily", "rates", "variances", "weekly", "weight", "workdays")

    def __init__(self) -> None:
        self.rates = list(_FLAT)
        #: Workdays and weekends apart in the day's shape, not each day: what growth between
        #: days is measured against (days of their own would soak it up).
        self.workdays = list(_FLAT)
        self.variances = [0.0] * 168
        self.daily = self.weekly = False
        #: The share of the hour-of-week cells' own evidence in their rates (0: all parent).
        self.weight = 0.0

    def overfit(self, cover: float) -> float:
        """How much fitting the hours of the week to `cover` seconds of days shrinks each day's
        miss: a profile fitted to k weeks takes about 1/k of it."""
        weeks = max(cover / WEEK, 1.0)
        return 1 / (1 - min(self.weight / weeks, 0.8))


def _pattern(spent: list[float], seen: list[float], psi: float) -> _Pattern:
    """The rate by hour of the week from the tally (credits spent, seconds seen, by hour of
    the week). Two parents, each shrunk toward flat by evidence: the shape of the day (by hour
    of the day), and the rate of each day of the week (a Monday batch), itself shrunk toward
    workdays' or weekends' (a quiet weekend); each hour of the week is then shrunk toward its
    day's rate in the day's shape."""
    out = _Pattern()
    hours = [s / HOUR for s in seen]
    total, exposure = sum(spent), sum(hours)
    if total <= 0 or exposure <= 0:
        return out
    flat = total / exposure
    # Hour d of the day is every 24th hour of the week from d; day k is hours 24k to 24k + 23.
    by_hour = _Level(
        [sum(spent[d::24]) for d in range(24)], [sum(hours[d::24]) for d in range(24)],
        [flat] * 24, [0.0] * 24, psi,
    )  # fmt: skip
    shape = _normalized(by_hour.rates)
    out.daily = by_hour.told
    # Workdays and weekends, then each day within its kind. A weekend not seen yet is taken
    # at the rate of the day's quieter half: a team that rests at night likely rests at
    # weekends, one busy round the clock keeps its rate.
    kind_hours = [sum(hours[:120]), sum(hours[120:])]
    quiet = flat * sum(sorted(shape)[:12]) / 12
    by_kind = _Level(
        [sum(spent[:120]), sum(spent[120:])], kind_hours,
        [flat, flat if kind_hours[1] else quiet], [0.0] * 2, psi,
    )  # fmt: skip
    workday, weekend = by_kind.rates
    out.workdays = [workday * f for f in shape] * 5 + [weekend * f for f in shape] * 2
    by_day = _Level(
        [sum(spent[k * 24 : k * 24 + 24]) for k in range(7)],
        [sum(hours[k * 24 : k * 24 + 24]) for k in range(7)],
        [by_kind.rates[k >= 5] for k in range(7)],
        [by_kind.variances[k >= 5] for k in range(7)], psi,
    )  # fmt: skip
    # Hour h of the week is hour h % 24 of day h // 24.
    squares = [f**2 for f in shape]
    by_week = _Level(
        spent, hours,
        [rate * f for rate in by_day.rates for f in shape],
        [v * q + w for v in by_day.variances
         for q, w in zip(squares, by_hour.variances, strict=True)],
        psi,
    )  # fmt: skip
    out.rates, out.variances = by_week.rates, by_week.variances
    out.weekly = by_kind.told or by_day.told or by_week.told
    out.weight = by_week.weight
    return out


def _normalized(rates: list[float]) -> list[float]:
    """The rates over their mean (168 factors, mean 1); flat when nothing is spent."""
    average = sum(rates) / len(rates)
    return [rate / average for rate in rates] if average > 0 else _FLAT


class _Level:
    """One level of the pattern: each cell's rate (credits per hour) shrunk toward its parent's
    by empirical Bayes. The cells' relative differences from their parents are taken to vary
    by tau^2 among cells; a cell seen for `hours` at its parent's rate p has noise
    psi / (p * hours) in that relative difference, psi being how much an hour's spending
    varies from week to week (`_repeat_dispersion`); tau^2 is what the observed differences
    hold beyond their noise (weighting each cell by how much it can tell: little where its
    noise is large), and each cell keeps tau^2 / (tau^2 + noise) of its own. A cell never seen
    takes its parent's rate, with tau^2 of doubt."""

    __slots__ = ("rates", "told", "variances", "weight")

    def __init__(
        self,
        spent: list[float],
        hours: list[float],
        parent: list[float],
        parent_var: list[float],
        psi: float,
    ) -> None:
        excess = mass = chi = expected = 0.0
        cells = 0
        for s, e, p in zip(spent, hours, parent, strict=True):
            seen = e * p  # (a product, so that an underflow counts as nothing seen)
            if seen > 0:
                miss = s / seen - 1
                noise = psi / seen
                weight = 1 / ((1 + noise) * (1 + noise))
                square = miss * miss
                excess += weight * (square - noise)
                mass += weight
                expected += seen
                chi += square / noise
                cells += 1
        tau2 = max(excess / mass, 0.0) if mass > 0 else 0.0
        #: Whether the cells differ from their parents beyond noise (a chi-square test).
        self.told = cells > 1 and chi > cells + TOLD_Z * math.sqrt(2 * cells)
        self.rates: list[float] = []
        self.variances: list[float] = []
        rate, variance = self.rates.append, self.variances.append
        kept = 0.0
        for s, e, p, v in zip(spent, hours, parent, parent_var, strict=True):
            if p <= 0:
                rate(0.0)
                variance(0.0)
                continue
            seen = e * p
            if seen > 0 and tau2 > 0:
                noise = psi / seen
                weight = tau2 / (tau2 + noise)
                ratio = 1 + weight * (s / seen - 1)
                ratio = 0.0 if ratio < 0.0 else ratio  # max(ratio, 0.0), without the call
                own = weight * noise
                kept += seen * weight
            else:
                ratio, own = 1.0, tau2
            rate(p * ratio)
            variance(p * p * own + ratio * ratio * v)
        self.weight = kept / expected if expected > 0 else 0.0


def _repeat_dispersion(hours: _Hours) -> tuple[float, tuple[list[float], list[float]]]:
    """How much an hour of the week's spending varies from one week to the next, as variance
    over mean (credits), from the hours of the week seen whole in two weeks or more: the noise
    the pattern's levels are judged against. A weekly batch read daily repeats closely (its
    spending is spread evenly over the same gap each week); a stream of specs varies by what
    a spec costs. Blended with the vendor's spec costs as PRIOR_DAYS days of hours. With it,
    from the same pass, the tally of the hours (`_tally`)."""
    count, total, square = [0] * 168, [0.0] * 168, [0.0] * 168
    spent, seen = [0.0] * 168, [0.0] * 168
    for how, credits, seconds in zip(hours.hows, hours.credits, hours.seconds, strict=True):
        spent[how] += credits
        seen[how] += seconds
        if seconds >= HOUR - 1e-6:
            count[how] += 1
            total[how] += credits
            square[how] += credits * credits
    squared = mass = free = 0.0
    for n, t, q in zip(count, total, square, strict=True):
        if n >= 2 and t > 0:  # the squared misses from the hour's mean, from its moments
            miss = q - t * t / n
            squared += 0.0 if miss < 0.0 else miss  # max(miss, 0.0), without the call
            mass += t / n * (n - 1)
            free += n - 1
    prior = PRIOR_DAYS * 24
    observed = squared / mass if mass > 0 else 0.0
    return max((prior * SPEC_DISPERSION + free * observed) / (prior + free), 1e-3), (spent, seen)


def _tally(hours: _Hours, growth: float = 0.0, last: int = 0) -> tuple[list[float], list[float]]:
    """Credits spent and seconds observed by hour of the week, with `growth` per hour (before
    `last`) taken out."""
    spent = [0.0] * 168
    seen = [0.0] * 168
    for hour, how, credits, seconds in zip(
        hours.hours, hours.hows, hours.credits, hours.seconds, strict=True
    ):
        spent[how] += credits * math.exp(growth * (last - hour)) if growth else credits
        seen[how] += seconds
    return spent, seen


class _Hours:
    """`Spending.hours` oldest first, as columns: the absolute UTC hours, their hours of the
    week, the credits spent and the seconds observed in each."""

    __slots__ = ("credits", "hours", "hows", "seconds")

    def __init__(self, spent: dict[int, list[float]]) -> None:
        # `spending` adds the hours oldest first, so the cells are read in the dict's order,
        # not looked up again; only hours `Spending.fill` added later need the lookups.
        hours, cells = list(spent), list(spent.values())
        ordered = sorted(hours)
        if hours != ordered:
            hours, cells = ordered, [spent[hour] for hour in ordered]
        self.hours = hours
        self.hows = [(hour - _MONDAY_HOUR) % 168 for hour in hours]  # hour_of_week, inline
        self.credits = [credits for credits, _ in cells]
        self.seconds = [seconds for _, seconds in cells]


class _Days:
    """Whole days back from the newest of `hours` (oldest first), or single hours when the
    readings cover less than two days: what each spent, computed once, and what each was
    expected to spend under a profile (`blocks`), asked once per profile."""

    __slots__ = ("bounds", "hows", "seconds", "seen", "size", "spent")

    def __init__(self, columns: _Hours, cover: float) -> None:
        self.size = size = 24 if cover >= 2 * DAY else 1
        hours, last = columns.hours, columns.hours[-1]
        self.hows, self.seconds, credits = columns.hows, columns.seconds, columns.credits
        #: Each block's hours, as a slice (block k holds the hours in (last - (k + 1) size,
        #: last - k size]): the hours are sorted, so each block is found by bisection.
        self.bounds = [
            (
                bisect.bisect_right(hours, last - (k + 1) * size),
                bisect.bisect_right(hours, last - k * size),
            )
            for k in range((last - hours[0]) // size + 1)
        ]
        self.spent = [sum(credits[a:b], 0.0) for a, b in self.bounds]
        self.seen = [sum(self.seconds[a:b], 0.0) for a, b in self.bounds]

    def repeats(self, growth: float) -> tuple[float, float]:
        """How much a day's spending varies from one week to the next: the squared misses of
        each whole day from the mean of the same day of the week (with `growth` per day taken
        out), over the spending they average (credits), and how many repeats tell it. Free of
        any fitted profile: a weekly batch read daily repeats to within its specs' costs,
        however its readings smear it over the days. (0, 0) with under two whole weeks."""
        if self.size != 24:
            return 0.0, 0.0
        slots: list[list[float]] = [[] for _ in range(7)]
        for key, (spent, seen) in enumerate(zip(self.spent, self.seen, strict=True)):
            if seen >= DAY - 1e-6:
                slots[key % 7].append(spent * math.exp(growth * (key + 0.5)) if growth else spent)
        squared = mass = free = 0.0
        for values in slots:
            n = len(values)
            if n >= 2:
                mean = sum(values) / n
                squared += sum((v - mean) * (v - mean) for v in values)
                mass += mean * (n - 1)
                free += n - 1
        return (squared / mass if mass > 0 else 0.0), free

    def blocks(self, profile: list[float]) -> list[tuple[float, float, float]]:
        """(credits spent, credits expected at level 1 credit/hour with these 168 factors,
        days before the end) of each block with any expected."""
        # In credit-seconds per hour.
        parts = [
            seconds * profile[how] for seconds, how in zip(self.seconds, self.hows, strict=True)
        ]
        expected = [sum(parts[a:b], 0.0) for a, b in self.bounds]
        size = self.size / 24
        return [
            (y, e / HOUR, -(k + 0.5) * size)
            for k, (y, e) in enumerate(zip(self.spent, expected, strict=True))
            if e > 0
        ]


def _level(blocks: list[tuple[float, float, float]], growth: float) -> float:
    """Credits per hour at the end, given `growth` per day."""
    weight = sum([e * math.exp(growth * tau) for _, e, tau in blocks])
    spent = sum([y for y, _, _ in blocks])
    return (0.0 if spent < 0.0 else spent) / weight if weight > 0 else 0.0  # max, no call


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
    total = sum([y for y, _, _ in blocks])
    if len(blocks) < 2 or total <= 0:
        return 0.0, math.inf
    target = sum([y * tau for y, _, tau in blocks]) / total
    exposures = [e for _, e, _ in blocks]
    taus = [tau for _, _, tau in blocks]

    def moments(g: float) -> tuple[float, float]:
        """The mean and variance of the blocks' days, weighted by the spending expected (sums
        of lists: one C loop each, no generator resumed per block)."""
        weights = [e * math.exp(g * tau) for e, tau in zip(exposures, taus, strict=True)]
        mass = sum(weights)
        mean = sum([w * tau for w, tau in zip(weights, taus, strict=True)]) / mass
        spread = sum([w * (tau - mean) ** 2 for w, tau in zip(weights, taus, strict=True)])
        return mean, spread / mass

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
    shrinking of the misses by a profile fitted to these same blocks. Blended with the vendor's
    spec costs (SPEC_DISPERSION, as PRIOR_DAYS blocks), and never below MIN_DISPERSION."""
    squared = expected = 0.0
    for y, e, tau in blocks:
        mean = level * e * math.exp(growth * tau)
        squared += (y - mean) ** 2
        expected += mean
    free = max(len(blocks) - parameters, 0)
    seen = squared / expected * len(blocks) / free * overfit if free and expected > 0 else 0.0
    blended = (PRIOR_DAYS * SPEC_DISPERSION + free * seen) / (PRIOR_DAYS + free)
    return max(MIN_DISPERSION, blended)


class Walk:
    """The model walked forward from `model.start`: the credits expected to be spent (the
    median path) by any time ahead, and when a share of the distribution of spending reaches a
    target. The first week is summed hour by hour; every later week is that week grown by the
    growth carried, so any time ahead costs O(log) to ask, and building costs O(168)."""

    __slots__ = ("cumulative", "model", "plain", "steps", "times", "uncertain", "weekly", "widths")

    def __init__(self, model: Model, like: Walk | None = None) -> None:
        """`like`: a walk of another branch of the same model (the same start, hours of the
        week and doubts), whose hour-by-hour parts are taken instead of computed again."""
        self.model = model
        level, growth = model.level, model.growth
        if like is None:
            hour = math.floor(model.start / HOUR)
            factors, how = model.factors(), hour_of_week(hour)
            # The first week from the start: a partial hour, 167 whole ones, the rest of the
            # first.
            first = (hour + 1) * HOUR - model.start
            #: Segment ends (seconds after the start) over the first week; their widths; the
            #: average hours each holds (`steps`) and their sum; the doubt the hours add up to.
            self.times = [0.0, *(first + i * HOUR for i in range(168)), WEEK]
            self.widths = widths = [first, *([HOUR] * 167), HOUR - first]
            slots = [(how + i) % 168 for i in range(169)]
            self.steps = [factors[h] * w / HOUR for h, w in zip(slots, widths, strict=True)]
            self.plain = list(itertools.accumulate(self.steps, initial=0.0))
            doubt = model.cell_var
            if doubt is None:
                self.uncertain = [0.0] * 170
            else:
                self.uncertain = list(
                    itertools.accumulate(
                        (doubt[h] * (w / HOUR) ** 2 for h, w in zip(slots, widths, strict=True)),
                        initial=0.0,
                    )
                )
        else:
            self.times, self.widths, self.steps = like.times, like.widths, like.steps
            self.plain, self.uncertain = like.plain, like.uncertain
        #: The credits expected by each segment's end.
        if growth:
            # e^(growth t) at each segment's start, hour by hour (one exp for the whole hours).
            hourly, whole = math.exp(growth * HOUR), _expm1_ratio(growth * HOUR)
            steps = self.steps
            # The partial hours at the ends (either may be whole), and the whole ones between.
            first, last = (
                whole if w == HOUR else _expm1_ratio(growth * w)
                for w in (self.widths[0], self.widths[-1])
            )
            grown, spent = math.exp(growth * self.times[1]), [level * steps[0] * first]
            for f in steps[1:-1]:
                spent.append(level * f * grown * whole)
                grown = grown * hourly
            spent.append(level * steps[-1] * grown * last)
        else:
            spent = [level * f for f in self.steps]
        self.cumulative = list(itertools.accumulate(spent, initial=0.0))
        #: The credits of the first week (each later one is that, grown).
        self.weekly = self.cumulative[-1]

    def _weeks_total(self, weeks: int) -> float:
        """The credits expected in the first `weeks` whole weeks."""
        g = self.model.growth * WEEK
        if g == 0:
            return self.weekly * weeks
        return self.weekly * math.expm1(min(g * weeks, 700.0)) / math.expm1(g)

    def credits_by(self, seconds: float) -> float:
        """The credits expected to be spent in the `seconds` after the start."""
        return self._expected(seconds)[0]

    def seconds_to(self, credits: float) -> float:
        """Seconds until the expected spending reaches `credits` (0 or more); inf if never."""
        if credits <= 0:
            return 0.0
        if self.weekly <= 0:
            return math.inf
        g = self.model.growth * WEEK
        share = credits / self.weekly
        if not share < MAX_WEEKS:  # (also nan)
            return math.inf
        if g == 0:
            weeks = math.floor(share)
        else:
            inside = share * math.expm1(g)
            if inside <= -1:  # a decline that never spends that much
                return math.inf
            weeks = math.floor(math.log1p(inside) / g)
        if weeks > MAX_WEEKS:
            return math.inf
        # (min and max spelt out: asked at every `Runway.reach`.)
        weeks = 0 if weeks < 0 else weeks
        grown = g * weeks
        rest = (credits - self._weeks_total(weeks)) / math.exp(700.0 if grown > 700.0 else grown)
        rest = 0.0 if rest < 0.0 else rest
        rest = self.weekly if self.weekly < rest else rest
        return weeks * WEEK + _interpolate(self.cumulative, self.times, rest)

    def _expected(self, seconds: float) -> tuple[float, int, int, float]:
        """The credits expected in the next `seconds`, with where they end: the whole weeks,
        the segment of the first week the rest ends in (j), and the share of it covered. Apart
        from the doubt, which `credits_by` (asked for each point of a path) does not need."""
        # (Asked for every step of `Runway.reach`: min and max spelt out, and bisect's bounds
        # clamping j to 1..len - 1.)
        times = self.times
        weeks = int(seconds // WEEK)
        weeks = _MOST_WEEKS if weeks > _MOST_WEEKS else weeks
        rest = seconds - weeks * WEEK
        j = bisect.bisect_left(times, rest, 1, len(times) - 1)
        t0, t1 = times[j - 1], times[j]
        share = (rest - t0) / (t1 - t0) if t1 > t0 else 0.0
        share = 0.0 if share < 0.0 else 1.0 if share > 1.0 else share
        cumulative = self.cumulative
        within = cumulative[j - 1] + share * (cumulative[j] - cumulative[j - 1])
        if not weeks:
            return within, weeks, j, share
        grown = math.exp(min(self.model.growth * WEEK * weeks, 700.0))
        return self._weeks_total(weeks) + grown * within, weeks, j, share

    def expected_and_doubt(self, seconds: float) -> tuple[float, float]:
        """The credits expected in the next `seconds` (`credits_by`), and their relative
        variance from what is unsure in the hours of the week they cross: each hour's doubt,
        counted once for each time the horizon crosses it (squared: the same hour misses the
        same way every week)."""
        expected, weeks, j, share = self._expected(seconds)
        plain, uncertain = self.plain, self.uncertain
        part = uncertain[j - 1] + share * (uncertain[j] - uncertain[j - 1])
        hours = weeks * plain[-1] + plain[j - 1] + share * (plain[j] - plain[j - 1])
        doubt = weeks * weeks * uncertain[-1] + (2 * weeks + 1) * part
        return expected, (doubt / hours / hours if hours > 0 else 0.0)


class Runway:
    """The distribution of the time to a target: each branch of the growth's posterior
    (`Model.branches`) walked forward, and the chance that the spending has reached the target
    by a time taken as their weighted mixture. In each branch the spending by t is log-normal
    around its median path (see `Model.log_spread`)."""

    __slots__ = ("likeliest", "walks")

    def __init__(self, model: Model) -> None:
        branches = model.branches or [(1.0, model)]
        first = Walk(branches[0][1])
        self.walks = [(branches[0][0], first)]
        self.walks += [(weight, Walk(branch, first)) for weight, branch in branches[1:]]
        #: The walk of the branch with the most weight: the path a chart draws.
        self.likeliest = max(self.walks, key=lambda item: item[0])[1]

    def chance(self, seconds: float, target: float) -> float:
        """The chance that the spending in the next `seconds` reaches e^target credits."""
        total = 0.0
        for weight, walk in self.walks:
            expected, doubt = walk.expected_and_doubt(seconds)
            if expected <= 0:
                continue
            process, fitted = walk.model.log_spread(seconds, expected, doubt)
            spread = math.sqrt(process + fitted)  # within 1e-12 and MAX_SPREAD:
            spread = MAX_SPREAD if spread > MAX_SPREAD else 1e-12 if spread < 1e-12 else spread
            total += weight * _phi((math.log(expected) - process / 3 - target) / spread)
        return total

    def reach(self, credits: float, z: float, limit: float) -> float:
        """Seconds until the spending reaches `credits` with the chance Phi(-z) (z = 0: the
        median time; Z90: the time by which the floor has a 1-in-10 chance of coming; -Z90:
        9 in 10); inf beyond `limit`.

        The answer is the first point of a fixed grid (`_grid_time`) at which that chance has
        been reached: the same grid for every target, so more credits never give an earlier
        answer. Regula falsi finds the neighbourhood in a few steps."""
        if credits <= 0:
            return 0.0
        target, wanted = math.log(credits), _phi(-z)

        def excess(seconds: float) -> float:
            """How far the chance of having reached the target by then is past `wanted`."""
            return self.chance(seconds, target) - wanted

        last = _grid_index(limit)
        if last < 0 or excess(_grid_time(last)) < 0:
            return math.inf
        # Bracket from a guess: the likeliest branch's expected path, moved by its spread.
        walk = self.likeliest
        middle = min(walk.seconds_to(credits), limit)
        process, fitted = walk.model.log_spread(middle, credits, walk.expected_and_doubt(middle)[1])
        guess = walk.seconds_to(credits * math.exp(process / 3 - z * math.sqrt(process + fitted)))
        low = high = limit if math.isnan(guess) else min(max(guess, _GRID_START), limit)
        f_low = f_high = excess(high)
        while f_high < 0:
            low, f_low, high = high, f_high, min(high * 1.5, limit)
            f_high = excess(high)
        while f_low >= 0 and low > _GRID_START:
            high, f_high, low = low, f_low, max(low / 1.5, _GRID_START)
            f_low = excess(low)
        if f_low >= 0:
            return _grid_time(0)
        # Regula falsi (Illinois) in log time, to within a grid step.
        side = 0
        while math.log(high / low) > _GRID_STEP:
            gap = f_high - f_low  # 0 once halving has worn both ends down to zeros
            share = f_high / gap if gap > 0 else 0.5
            at = high * math.exp(-share * math.log(high / low))
            # Within (low, high), a little inside each end (min and max spelt out).
            inner, outer = low * (1 + 1e-6), high * (1 - 1e-6)
            at = inner if inner > at else at
            at = outer if outer < at else at
            f_at = excess(at)
            if f_at < 0:
                low, f_low = at, f_at
                f_high, side = (f_high / 2 if side == -1 else f_high), -1
            else:
                high, f_high = at, f_at
                f_low, side = (f_low / 2 if side == 1 else f_low), 1
        # The first grid point at or past the crossing, which lies in (low, high].
        index = _grid_index(high)
        if excess(_grid_time(index)) >= 0:
            return _grid_time(index)
        return _grid_time(index + 1)


def _phi(x: float) -> float:
    """The standard normal's distribution function."""
    return 0.5 * math.erfc(-x / _SQRT2)


_SQRT2 = math.sqrt(2)


def z_of(chance: float) -> float:
    """The z of `Runway.reach` at which the target has `chance` (0 to 1, exclusive) of being
    reached: Phi(-z) = chance, by bisection (no `statistics` import on the check's path)."""
    if not 0 < chance < 1:
        raise ValueError(f"a chance between 0 and 1, not {chance!r}")
    low, high = -40.0, 40.0
    for _ in range(100):
        middle = (low + high) / 2
        if _phi(-middle) > chance:
            low = middle
        else:
            high = middle
    return (low + high) / 2


#: The grid `Runway.reach` answers on: from a minute, each point 1/10 000 later than the last.
_GRID_START = 60.0
_GRID_STEP = math.log1p(1e-4)


def _grid_time(index: int) -> float:
    return 0.0 if index < 0 else _GRID_START * math.exp(index * _GRID_STEP)


def _grid_index(seconds: float) -> int:
    """The last grid point at or before `seconds` (-1: before the first)."""
    if seconds < _GRID_START:
        return -1
    return math.floor(math.log(seconds / _GRID_START) / _GRID_STEP)


def _expm1_ratio(x: float) -> float:
    """(e^x - 1) / x, 1 at 0: how much growth adds over a stretch, against none."""
    return math.expm1(x) / x if x else 1.0


def _interpolate(xs: list[float], ys: list[float], x: float) -> float:
    """ys at x, linear between the points of increasing xs (clamped at the ends)."""
    # (bisect's bounds clamp j to 1..len - 1; min and max spelt out.)
    j = bisect.bisect_left(xs, x, 1, len(xs) - 1)
    x0, x1 = xs[j - 1], xs[j]
    share = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
    share = 0.0 if share < 0.0 else 1.0 if share > 1.0 else share
    return ys[j - 1] + share * (ys[j] - ys[j - 1])
