"""The scenario of tests/test_incremental.py and its oracle: DuckDB SQL written from CONTRACT.md
section 3 and issue 29's lookback, sharing no code with labelspark.

The scenario: 41 entities' orders over 120 days of history (a few of the year before too) and 60
simulated days, each row with the day it arrives (a parquet file per arrival day joins the source
that day). Most rows arrive on their own day; some 1 or 2 days late (inside a lookback of 3
days); some later (`LATE`: 3, 10, 31... days late), among them the only row of guest `g03`.
Newcomers join mid-way, leavers' rows get old, `m38` is deleted and leaves every source.

The oracle answers for a run date D over the rows present on a day P (the source as it then
is), counting either every present row (the full pass, a back-fill) or the rows the tiles hold.
`Tiles` models the tiles from issue 29's words alone: a run of D tiles the days it has not tiled
yet and again the lookback's days D-L+1..D, from the rows present then; `retile --from X` makes
the days from X on again; a back-fill or `--full` leaves them be. A row dated t that arrived on
day a counts iff a is no later than the last time t's day was tiled (with daily runs: a <= t+L-1,
or the first run's day for the days before it).

The contract's readings: windows are the N calendar days ending with D; rows up to the end of D
in the config's timezone; first/last order by time then value; the latest value: greatest time,
then greatest value; mode: most frequent, then smallest; collect_set sorted distinct;
count/count_distinct 0 without rows, everything else null; sums of doubles exact (README
"Exact": each value rounded half up to millionths, summed exactly, the total made a double once;
avg: that total over the count).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

TIMEZONE = "Asia/Shanghai"
FIRST_DAY = dt.date(2026, 5, 4)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(60)]
HISTORY = 120  # days of rows before the first run
LOOKBACK = 3  # the default `lookback: 3d` (issue 29)
# the days of the orders of the year before: outside every run's 365-day window; the first run
# tiles from the oldest (~380 days: a partition per day and per block; the blocks of 256, 512
# and 1,024 days over them are made all the same, and the first run's and the last's windows
# together read blocks of every level from 1 to 256 days)
YEAR_BEFORE = (-380, -366)
CHANNELS = ("app", "store", "web")
CATEGORIES = ("books", "garden", "home", "kids", "shoes", "toys")
# arrival day index -> (entity, days late) of the rows arriving later than the lookback; with
# daily runs, day 12 (index 11) is the first (4 rows on 3 days, the oldest 20 days before the
# first run): 3 days late is the first day outside a lookback of 3
LATE = {
    11: [("g03", 10), ("m04", 3), ("m07", 31), ("m08", 31)],
    24: [("m02", 3), ("m11", 45)],
    40: [("m05", 12), ("m29", 8), ("m13", 100)],
    52: [("m09", 3)],
    59: [("m01", 20), ("m16", 10)],
}


def day_of(index: int) -> dt.date:
    """Day `index` counted from the first run's day (negative: history)."""
    return FIRST_DAY + dt.timedelta(days=index)


# --- the indicators (one label each) --------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    id: str
    agg: str | None  # None: a `column:` indicator (the latest row's value)
    of: str | None
    window: int | None = None
    where: tuple[str, str, object] | None = None  # (column, op, value) in the config's rule words
    source: str = "orders"

    def indicator(self) -> dict:
        found = {"source": self.source}
        if self.agg is None:
            found["column"] = self.of
        else:
            found["agg"] = self.agg
            if self.of:
                found["of"] = self.of
        if self.window:
            found["window"] = f"{self.window}d"
        if self.where:
            column, op, value = self.where
            found["where"] = {"field": column, "op": op, "value": value}
        return found

    @property
    def label_type(self) -> str:
        if self.agg in ("count", "count_distinct", "sum", "avg", "min", "max"):
            return "number"
        return "list" if self.agg == "collect_set" else "string"

    def label(self) -> dict:
        method = {"first": "first_last", "last": "first_last", "mode": "preference"}.get(self.agg, "metric")
        return {"id": self.id, "type": self.label_type, "method": method, "indicator": self.id}


# every aggregate, each window (1, 7, 30, 365 days, none) under several: each label costs a Sail
# run ~40 ms here, so no more than that
SPECS = [
    Spec("orders_1d", "count", None, 1),
    Spec("big_orders_30d", "count", None, 30, ("amount", "gte", 100)),
    Spec("orders_365d", "count", None, 365),
    Spec("spend_7d", "sum", "amount", 7),
    Spec("spend_all", "sum", "amount"),
    Spec("avg_30d", "avg", "amount", 30),
    Spec("min_7d", "min", "amount", 7),
    Spec("max_365d", "max", "amount", 365),
    Spec("first_channel", "first", "channel"),
    Spec("last_category_7d", "last", "category", 7),
    Spec("top_category_30d", "mode", "category", 30),
    Spec("categories_365d", "collect_set", "category", 365),
    Spec("n_categories", "count_distinct", "category"),
    Spec("latest_channel", None, "channel"),
    Spec("tier", None, "tier", source="members"),
]


def config(warehouse: str) -> dict:
    """The project (`incremental: true`, and `tiles_from_rows: 0`: so small a source tiles from its first row, not from 10^6)."""
    orders = {"format": "parquet", "path": "data/orders", "key": "member_id", "time": "order_time",
              "lookback": f"{LOOKBACK}d", "incremental": True, "tiles_from_rows": 0}
    return {
        "version": 1, "name": "incremental", "timezone": TIMEZONE, "entity": {"key": "member_id"},
        "sources": {
            "members": {"format": "parquet", "path": "data/members", "key": "member_id", "time": "updated_at",
                        "clean": {"dedupe": {"by": ["member_id"], "keep": "latest"}, "filter": "status != 'deleted'"}},
            "orders": orders,
        },
        "indicators": {spec.id: spec.indicator() for spec in SPECS},
        "labels": [spec.label() for spec in SPECS],
        "outputs": {"warehouse": warehouse},
    }


# --- the rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    orders: list[dict]  # order_id, member_id, local (naive local time), amount, channel, category, arrival
    members: list[dict]  # member_id, status, tier, local, arrival


def _local(rng: random.Random, day: dt.date) -> dt.datetime:
    """A local time on `day`: a minute of either edge one time in four (a cut in UTC would be a
    day off), else on the hour (two orders of a day then often share their time)."""
    clock = rng.choice([dt.time(0, 0, 30), dt.time(23, 59, 30)] + [dt.time(rng.randrange(24))] * 6)
    return dt.datetime.combine(day, clock)


def generate(seed: int = 29) -> Scenario:
    """Regulars m01-m26 (history and sim; one in three with an order of the year before),
    newcomers m27-m32 (join on days 15-45), leavers m33-m36 (no order after a day between -10
    and 25), members without orders m37 (tier changes) and m38 (deleted on day 30), guests
    g01-g03 (no member row; g03's only row is late); m05's tier changes, then it is deleted."""
    rng = random.Random(seed)
    orders: list[dict] = []
    members: list[dict] = []

    def order(entity: str, index: int, arrival: int, tie_with: dict | None = None) -> None:
        local = tie_with["local"] if tie_with else _local(rng, day_of(index))
        cents = rng.randint(150, 25000) if rng.random() < 0.9 else rng.randint(100000, 300000)
        orders.append({"order_id": f"o{len(orders):04d}", "member_id": entity, "local": local, "amount": cents / 100,
                       "channel": rng.choice(CHANNELS), "category": rng.choice(CATEGORIES), "arrival": max(arrival, 0)})

    def member(entity: str, index: int, status: str, tier: str | None, second: int) -> None:
        local = _local(rng, day_of(index)).replace(second=second)  # unique per member: no ties in dedupe
        members.append({"member_id": entity, "status": status, "tier": tier, "local": local, "arrival": max(index, 0)})

    def buyer(entity: str, first: int, last: int, count: int, fold: tuple[int, int] | None = None) -> None:
        for _ in range(count):
            index = rng.randint(first, last)
            if fold:  # the day drawn from first..last as before (the rest of the scenario unchanged), folded into fold's days
                index = fold[0] + (index - first) % (fold[1] - fold[0] + 1)
            late = rng.choice([1, 2]) if index >= 0 and rng.random() < 0.15 else 0
            order(entity, index, min(index + late, len(DAYS) - 1))
            mine = [o for o in orders if o["member_id"] == entity and o["local"].date() == day_of(index)]
            if rng.random() < 0.2:  # a second order at the same instant: ties for first/last/latest
                order(entity, index, min(index + rng.choice([0, 0, 1]), len(DAYS) - 1), tie_with=mine[0])

    tiers = ("gold", "silver", "bronze", None)
    for n in range(1, 39):
        entity = f"m{n:02d}"
        joined = rng.randint(-HISTORY, -1) if n <= 26 or n >= 33 else rng.randint(15, 45)
        member(entity, joined, "active", rng.choice(tiers), 1)
        if n in (5, 37):  # a tier change, then (m05, who keeps ordering) a deletion
            member(entity, 10, "active", rng.choice(tiers), 2)
        if n in (5, 38):
            member(entity, 30 if n == 38 else 40, "deleted", None, 3)
        if n <= 26:
            buyer(entity, -HISTORY, len(DAYS) - 1, rng.randint(8, 16))
            if n % 3 == 0:  # an order of the year before: a 365-day window is not all rows
                buyer(entity, -500, -366, 1, fold=YEAR_BEFORE)
        elif n <= 32:
            buyer(entity, joined, len(DAYS) - 1, rng.randint(3, 8))
        elif n <= 36:
            buyer(entity, -HISTORY, rng.randint(-10, 25), rng.randint(2, 5))
    for entity in ("g01", "g02"):
        buyer(entity, -HISTORY, len(DAYS) - 1, 6)
    for arrival, rows in LATE.items():
        for entity, late in rows:
            order(entity, arrival - late, arrival)
    for index in range(len(DAYS)):  # a row arrives every day: the sources are never stale
        if not any(o["arrival"] == index for o in orders):
            order("g01", index, index)
    return Scenario(orders, members)


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.timezone.utc)


_UTC = pa.timestamp("us", tz="UTC")
SCHEMAS = {  # every file of a folder alike (a file whose tiers are all null would infer no type)
    "orders": pa.schema([("order_id", pa.string()), ("member_id", pa.string()), ("order_time", _UTC),
                         ("amount", pa.float64()), ("channel", pa.string()), ("category", pa.string())]),
    "members": pa.schema([("member_id", pa.string()), ("status", pa.string()), ("tier", pa.string()), ("updated_at", _UTC)]),
}


def write_arrivals(scenario: Scenario, data: Path, index: int) -> None:
    """Adds to the parquet folders a file of the rows arriving on day `index` (day 0: every earlier one too)."""
    for name, rows, time in (("orders", scenario.orders, "order_time"), ("members", scenario.members, "updated_at")):
        arriving = [{**row, time: _utc(row["local"])} for row in rows if row["arrival"] == index]
        if arriving:
            folder = data / name
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pylist(arriving, schema=SCHEMAS[name])
            pq.write_table(table, folder / f"arrived-{day_of(index).isoformat()}.parquet")


class Tiles:
    """Per tiling, (first day, last day, the day whose rows it saw): what the tiles hold."""

    def __init__(self):
        self.builds: list[tuple[dt.date, dt.date, dt.date]] = []
        self.last: dt.date | None = None  # the tiles' last day

    def run(self, day: dt.date) -> None:
        """An ordinary run (not a back-fill): the untiled days up to `day` and the lookback's."""
        if self.last is not None and day < self.last:
            return
        first = dt.date.min if self.last is None else min(self.last + dt.timedelta(days=1), day - dt.timedelta(days=LOOKBACK - 1))
        self.builds.append((first, day, day))
        self.last = day

    def retile(self, start: dt.date, present: dt.date) -> None:
        self.builds.append((start, self.last, present))


# --- the oracle ----------------------------------------------------------------------------

_OPS = {"gte": ">="}


class Oracle:
    """DuckDB over the scenario's rows, each with its local time and its arrival day."""

    def __init__(self, scenario: Scenario):
        self.db = duckdb.connect()
        for name, rows in (("orders", scenario.orders), ("members", scenario.members)):
            table = pa.Table.from_pylist([{**row, "arrival": day_of(row["arrival"])} for row in rows])
            self.db.register(f"{name}_rows", table)
            self.db.execute(f"CREATE TABLE {name} AS SELECT *, local::DATE AS day FROM {name}_rows")

    def _tiled(self, tiles: Tiles) -> str:
        """A predicate of the rows the tiles hold: arrived by the last tiling of their day."""
        self.db.execute("CREATE OR REPLACE TEMP TABLE builds (first DATE, last DATE, seen DATE)")
        self.db.executemany("INSERT INTO builds VALUES (?, ?, ?)", tiles.builds)
        return "arrival <= (SELECT max(seen) FROM builds b WHERE day BETWEEN b.first AND b.last)"

    def uncounted(self, present: dt.date, tiles: Tiles) -> list[dt.date]:
        """The days of the rows present on `present` that the tiles do not hold (late rows)."""
        rows = self.db.execute(f"SELECT day FROM orders WHERE arrival <= DATE '{present}' AND NOT ({self._tiled(tiles)}) ORDER BY day")
        return [day for (day,) in rows.fetchall()]

    def answer(self, run_date: dt.date, present: dt.date, tiles: Tiles | None) -> dict[str, dict]:
        """Entity -> label -> value for a run of `run_date` over the rows arrived by `present`:
        all of them (`tiles` None: the full pass) or those the tiles hold (an ordinary run)."""
        counted = "TRUE" if tiles is None else self._tiled(tiles)
        d = f"DATE '{run_date}'"
        self.db.execute(f"""
            CREATE OR REPLACE TEMP TABLE o AS
            SELECT *, floor(amount * 1000000::DOUBLE + 0.5::DOUBLE)::BIGINT AS micros FROM orders
            WHERE arrival <= DATE '{present}' AND day <= {d} AND {counted}""")
        orders = [spec for spec in SPECS if spec.source == "orders"]
        columns, joins = [], []
        for spec in orders:
            c = self._condition(spec, d)
            if spec.agg == "mode":
                joins.append(f"""LEFT JOIN (SELECT member_id, first({spec.of} ORDER BY n DESC, {spec.of}) AS {spec.id}
                    FROM (SELECT member_id, {spec.of}, count(*) AS n FROM o WHERE {c} GROUP BY ALL) GROUP BY member_id)
                    USING (member_id)""")
            else:
                columns.append(f"{self._aggregate(spec, c)} AS {spec.id}")
        result = self.db.execute(f"""
            WITH latest AS (
                SELECT * FROM members WHERE arrival <= DATE '{present}' AND day <= {d}
                QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY local DESC) = 1),
            live AS (SELECT member_id, tier FROM latest WHERE status <> 'deleted'),
            agg AS (SELECT member_id, {', '.join(columns)} FROM o GROUP BY member_id),
            entities AS (SELECT member_id FROM live UNION SELECT member_id FROM o)
            SELECT * FROM entities LEFT JOIN live USING (member_id) LEFT JOIN agg USING (member_id) {' '.join(joins)}
            """)
        names = [column[0] for column in result.description]
        answer = {}
        for row in (dict(zip(names, values)) for values in result.fetchall()):
            entity = row.pop("member_id")
            for spec in SPECS:
                value = row[spec.id]
                if spec.agg in ("count", "count_distinct"):
                    value = 0 if value is None else value
                if spec.label_type == "number" and value is not None:
                    value = float(value)
                row[spec.id] = value
            answer[entity] = row
        return answer

    @staticmethod
    def _condition(spec: Spec, d: str) -> str:
        parts = ["TRUE"]
        if spec.window:
            parts.append(f"day BETWEEN {d} - {spec.window - 1} AND {d}")
        if spec.where:
            column, op, value = spec.where
            parts.append(f"{column} {_OPS[op]} {value!r}")
        return " AND ".join(parts)

    @staticmethod
    def _aggregate(spec: Spec, c: str) -> str:
        of, where = spec.of, f"FILTER (WHERE {c})"
        if spec.agg == "count":
            return f"count(*) {where}"
        if spec.agg == "count_distinct":
            return f"count(DISTINCT {of}) {where}"
        if spec.agg in ("sum", "avg"):  # the exact total of the values rounded to millionths, a double once
            total = f"((sum(micros) {where})::DOUBLE / 1000000::DOUBLE)"
            return total if spec.agg == "sum" else f"({total} / count(*) {where})"
        if spec.agg in ("min", "max"):
            return f"{spec.agg}({of}) {where}"
        if spec.agg == "first":
            return f"first({of} ORDER BY local, {of}) {where}"
        if spec.agg in ("last", None):  # last, and the latest row's value: greatest time, then value
            return f"first({of} ORDER BY local DESC, {of} DESC) {where}"
        if spec.agg == "collect_set":
            return f"list_sort(list_distinct(list({of}) {where}))"
        raise ValueError(spec.agg)
