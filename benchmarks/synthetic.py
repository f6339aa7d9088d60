"""A synthetic retail data set for the benchmark: members (with versions and soft deletes),
orders, and a VIP import file, written as parquet from numpy in chunks of bounded size.

`year_of_history` is the data set of `bench.py --year`: the same members and VIP file, and
orders spread uniformly over the 365 days before the run date, one file per day sorted by
time, with the run date's own orders (a new day's file) apart.

The same arguments give the same files, so a data set is generated once and reused.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

RUN_DATE = dt.date(2026, 3, 31)
TIMEZONE = "Asia/Shanghai"
UTC_OFFSET = dt.timedelta(hours=8)  # Shanghai has no daylight saving time
HISTORY_DAYS = 400  # orders reach this far back from the run date...
LATE_DAYS = 5  # ...and this far past it, so the as-of cut has rows to drop
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Xi'an", "Nanjing", "Suzhou", "Shantou", "Harbin"]
CHANNELS = ["app", "web", "store", "mini_program"]
CATEGORIES = ["apparel", "shoes", "beauty", "home", "sports", "kids", "food", "digital", "books", "toys", "jewelry", "pets"]
PAY_METHODS = ["card", "wallet", "cash", "credit", "voucher"]
ROWS_PER_FILE = 2_000_000
GENERATION = "g2"  # part of a data set's directory name: a change to the generator changes it


@dataclass(frozen=True)
class DataSet:
    directory: Path
    users: int
    orders_per_user: int
    seed: int

    @property
    def members(self) -> Path:
        return self.directory / "members"

    @property
    def orders(self) -> Path:
        return self.directory / "orders"

    @property
    def vip(self) -> Path:
        return self.directory / "vip.csv"

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    def rows(self) -> dict[str, int]:
        return json.loads(self.manifest.read_text())["rows"]


def data_set(root: Path, users: int, orders_per_user: int, seed: int = 42) -> DataSet:
    """The data set for these arguments under `root`, generated unless it already is."""
    data = DataSet(root / f"data-{GENERATION}-u{users}-o{orders_per_user}-s{seed}", users, orders_per_user, seed)
    if not data.manifest.exists():
        generate(data)
    return data


def generate(data: DataSet) -> None:
    rng = np.random.default_rng(data.seed)
    for folder in (data.members, data.orders):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
    members = _write_chunks(data.members, data.users, lambda first, n: _members(rng, first, n))
    orders = _write_chunks(data.orders, data.users * data.orders_per_user, lambda first, n: _orders(rng, first, n, data.users))
    vip = rng.choice(data.users, size=max(1, data.users // 10), replace=False)
    flags = np.where(rng.random(vip.size) < 0.8, "true", "false")
    with data.vip.open("w") as out:
        out.write("member_id,is_vip\n")
        out.writelines(f"{m},{f}\n" for m, f in zip(vip.tolist(), flags.tolist()))
    data.manifest.write_text(json.dumps({"rows": {"members": members, "orders": orders, "vip": int(vip.size)}, **asdict(data) | {"directory": str(data.directory)}}, indent=2))


def _write_chunks(folder: Path, count: int, make) -> int:
    """Writes `count` entities' (or rows') worth of `make(first, n)` tables; returns the rows written."""
    written, chunk = 0, max(1, ROWS_PER_FILE)
    for part, first in enumerate(range(0, count, chunk)):
        table = make(first, min(chunk, count - first))
        pq.write_table(table, folder / f"part-{part:05d}.parquet", row_group_size=500_000)
        written += table.num_rows
    return written


def _pick(rng: np.random.Generator, values: list[str], n: int, p=None) -> pa.Array:
    return pa.array(values).take(pa.array(rng.choice(len(values), size=n, p=p)))


def _micros(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.timezone.utc).timestamp() * 1_000_000)


def _members(rng: np.random.Generator, first: int, n: int) -> pa.Table:
    """One row per member, a second version for 20% (moved city, new level), and a deleted
    latest version for 3%: the dedupe and the soft-delete filter both have work to do."""
    ids = np.arange(first, first + n, dtype=np.int64)
    second = rng.random(n) < 0.20
    deleted = rng.random(n) < 0.03
    member = np.concatenate([ids, ids[second], ids[deleted]])
    rows = member.size
    joined = _micros(dt.datetime(2023, 1, 1)) + rng.integers(0, 3 * 365 * 86_400, size=n, dtype=np.int64) * 1_000_000
    later = joined[second] + rng.integers(1, 90 * 86_400, size=int(second.sum())) * 1_000_000
    gone = joined[deleted] + 100 * 86_400 * 1_000_000
    updated = np.concatenate([joined, later, gone])
    birthday = (np.datetime64("1950-01-01") + rng.integers(0, 62 * 365, size=rows)).astype("datetime64[D]")
    birthday = birthday.astype("datetime64[M]").astype("datetime64[D]") + rng.integers(0, 28, size=rows)  # days 1..28
    city = _pick(rng, CITIES, rows)
    padding = _pick(rng, ["", " ", "\t", "  "], rows, p=[0.7, 0.1, 0.1, 0.1])
    domain = _pick(rng, ["@mail.example", "@corp.example", "@shop.example"], rows, p=[0.6, 0.2, 0.2])
    email_ids = pc.binary_join_element_wise(pa.array(["M", "m"]).take(pa.array(rng.integers(0, 2, size=rows))), pc.cast(pa.array(member), pa.string()), "")
    email = pc.binary_join_element_wise(email_ids, domain, "")
    email = pc.if_else(pa.array(rng.random(rows) < 0.05), pa.nulls(rows, pa.string()), email)
    status = pa.array(["active", "deleted"]).take(pa.array((np.arange(rows) >= n + int(second.sum())).astype(np.int8)))
    return pa.table(
        {
            "member_id": pa.array(member),
            "gender": _pick(rng, ["F", "M", "U"], rows, p=[0.48, 0.48, 0.04]),
            "birthday": pa.array(birthday),
            "city": pc.binary_join_element_wise(padding, city, padding, ""),
            "email": email,
            "level": pa.array(rng.integers(1, 6, size=rows, dtype=np.int32)),
            "register_date": pa.array((np.concatenate([joined, joined[second], joined[deleted]]) // 86_400_000_000).astype("datetime64[D]")),
            "status": status,
            "updated_at": pa.array(updated).cast(pa.timestamp("us", tz="UTC")),
        }
    )


def _orders(rng: np.random.Generator, first: int, n: int, users: int) -> pa.Table:
    """Orders of 90% of the members (the rest never ordered), a few with no or a negative amount."""
    buyers = max(1, int(users * 0.9))
    end = _micros(dt.datetime.combine(RUN_DATE + dt.timedelta(days=LATE_DAYS + 1), dt.time()) - UTC_OFFSET)
    moment = end - rng.integers(1, (HISTORY_DAYS + LATE_DAYS) * 86_400 * 1_000_000, size=n, dtype=np.int64)
    return _order_table(rng, first, moment, lambda: rng.integers(0, buyers, size=n, dtype=np.int64))


def _order_table(rng: np.random.Generator, first: int, moment: np.ndarray, draw_members) -> pa.Table:
    """Orders at these moments (UTC microseconds), ids from `first`, members from `draw_members()`
    (drawn where `_orders` always drew them: the same seed gives the same data set as before)."""
    n = moment.size
    local_day = ((moment + int(UTC_OFFSET.total_seconds()) * 1_000_000) // 86_400_000_000).astype("datetime64[D]")
    # in quarters: every engine sums them exactly, in whatever order. With cents, a sum is
    # order-dependent in its last bit, and a member whose sum is the population's median fell
    # into one tier on one engine and the next on another
    amount = np.round(rng.lognormal(4.5, 1.0, size=n) * 4) / 4
    amount[rng.random(n) < 0.005] *= -1  # refunds, cleaned away
    amount_mask = rng.random(n) < 0.01  # missing amounts, cleaned away
    return pa.table(
        {
            "order_id": pa.array(np.arange(first, first + n, dtype=np.int64)),
            "member_id": pa.array(draw_members()),
            "order_time": pa.array(moment).cast(pa.timestamp("us", tz="UTC")),
            "order_date": pa.array(local_day),
            "amount": pa.array(amount, mask=amount_mask),
            "quantity": pa.array(rng.integers(1, 6, size=n, dtype=np.int32)),
            "channel": _pick(rng, CHANNELS, n, p=[0.45, 0.25, 0.2, 0.1]),
            "category": _pick(rng, CATEGORIES, n),
            "pay_method": _pick(rng, PAY_METHODS, n),
            "coupon": pa.array(rng.random(n) < 0.3),
        }
    )


# ---- a year of history (bench.py --year) ------------------------------------------------------

YEAR_GENERATION = "y1"  # as GENERATION, for the year-of-history generator
YEAR_DAYS = 365  # the history's days: D-365 .. D-1, D being RUN_DATE
LATE_SHARE = 0.02  # of the new day's rows: orders of the two days before it, arriving late


@dataclass(frozen=True)
class YearOfHistory:
    """Members and VIP file as `DataSet`'s; orders as one parquet file per local day of the
    YEAR_DAYS days before RUN_DATE under `history`, and RUN_DATE's orders under `new_day`."""

    directory: Path
    users: int
    orders_per_user: int
    seed: int

    @property
    def members(self) -> Path:
        return self.directory / "members"

    @property
    def history(self) -> Path:
        return self.directory / "orders-history"

    @property
    def new_day(self) -> Path:
        return self.directory / "orders-new-day"

    @property
    def vip(self) -> Path:
        return self.directory / "vip.csv"

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    def rows(self) -> dict[str, int]:
        return json.loads(self.manifest.read_text())["rows"]


def year_of_history(root: Path, users: int, orders_per_user: int, seed: int = 42) -> YearOfHistory:
    """The year-of-history data set for these arguments under `root`, generated unless it already is."""
    data = YearOfHistory(root / f"year-{GENERATION}{YEAR_GENERATION}-u{users}-o{orders_per_user}-s{seed}", users, orders_per_user, seed)
    if not data.manifest.exists():
        generate_year(data)
    return data


def generate_year(data: YearOfHistory) -> None:
    """`users` x `orders_per_user` orders spread uniformly over the YEAR_DAYS days before RUN_DATE
    (by 90% of the members, as `generate`'s), and RUN_DATE's: 1/YEAR_DAYS as many rows again, by
    any member (some order for the first time), LATE_SHARE of them (at least one) timed on the two
    days before: late rows inside the run's default lookback of 3 days.

    Each day's orders are one file sorted by `order_time`, named for its local day, not a hive
    partition (`order_date=...` directories would add a partition column the workload does not
    read; the run filters on the source's `time` column, `order_time`): each file's row groups
    cover one day, so parquet's min/max statistics of `order_time` let a time filter skip every
    file outside the days it reads, as a date-partitioned event source would."""
    rng = np.random.default_rng(data.seed)
    for folder in (data.members, data.history, data.new_day):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
    members = _write_chunks(data.members, data.users, lambda first, n: _members(rng, first, n))
    total = data.users * data.orders_per_user
    buyers = max(1, int(data.users * 0.9))
    per_day = rng.multinomial(total, [1 / YEAR_DAYS] * YEAR_DAYS)
    first = 0
    for offset, n in zip(range(YEAR_DAYS, 0, -1), per_day.tolist()):
        day = RUN_DATE - dt.timedelta(days=offset)
        moment = np.sort(_day_start(day) + rng.integers(0, 86_400_000_000, size=n, dtype=np.int64))
        table = _order_table(rng, first, moment, lambda: rng.integers(0, buyers, size=n, dtype=np.int64))
        pq.write_table(table, data.history / f"orders-{day.isoformat()}.parquet", row_group_size=500_000)
        first += n
    n = max(1, round(total / YEAR_DAYS))
    late = np.zeros(n, dtype=bool)  # at least one late row, even at CI's tiny scale
    late[rng.choice(n, size=max(1, round(n * LATE_SHARE)), replace=False)] = True
    days_back = np.where(late, rng.integers(1, 3, size=n), 0)  # 1 or 2 days before RUN_DATE
    moment = np.sort(_day_start(RUN_DATE) - days_back * 86_400_000_000 + rng.integers(0, 86_400_000_000, size=n, dtype=np.int64))
    table = _order_table(rng, first, moment, lambda: rng.integers(0, data.users, size=n, dtype=np.int64))
    pq.write_table(table, data.new_day / f"orders-{RUN_DATE.isoformat()}.parquet", row_group_size=500_000)
    vip = rng.choice(data.users, size=max(1, data.users // 10), replace=False)
    flags = np.where(rng.random(vip.size) < 0.8, "true", "false")
    with data.vip.open("w") as out:
        out.write("member_id,is_vip\n")
        out.writelines(f"{m},{f}\n" for m, f in zip(vip.tolist(), flags.tolist()))
    rows = {"members": members, "history": total, "new_day": n, "new_day_late": int(late.sum()), "vip": int(vip.size)}
    data.manifest.write_text(json.dumps({"rows": rows, **asdict(data) | {"directory": str(data.directory)}}, indent=2))


def _day_start(day: dt.date) -> int:
    """UTC microseconds at which a local day of TIMEZONE starts."""
    return _micros(dt.datetime.combine(day, dt.time()) - UTC_OFFSET)
