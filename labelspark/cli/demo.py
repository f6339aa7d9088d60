"""`labelspark demo DIR`: a small retail project (parquet data, CSV import, commented config) that runs as is.

The data is generated from a fixed seed, so every demo directory holds the same rows.
"""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from labelspark.config.schema import SCHEMA_FILE, schema_text
from labelspark.errors import DirectoryNotEmpty

CONFIG_NAME = "labelspark.yaml"
FIRST_DAY = dt.date(2025, 10, 1)
LAST_DAY = dt.date(2026, 3, 31)
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Xi'an"]
CHANNELS = ["app", "web", "store", "mini_program"]
CATEGORIES = ["apparel", "shoes", "beauty", "home", "sports", "kids"]
TZ = dt.timezone(dt.timedelta(hours=8))

CONFIG = """\
# yaml-language-server: $schema=labelspark.schema.json
# The first line points editors at the config's JSON Schema (`labelspark schema` prints it):
# completion, descriptions and checks as you type. docs/config.md of the labelspark repository
# describes every key. This is the demo: a retail project over three sources. Run it with:
#   labelspark run labelspark.yaml --date 2026-03-31
version: 1                      # the config format
name: demo_retail               # the project: shown in logs, the label portal and the callback
timezone: Asia/Shanghai         # run dates are days here: D ends at midnight Shanghai time
entity:                         # whom labels describe: the snapshot has one row per entity
  key: member_id                # the id column of every output table and document
  kind: member_id               # member_id | one_id | phone | openid (descriptive)
sources:                        # the tables indicators read, by name
  members:
    format: parquet             # parquet | delta | csv | json | table | jdbc
    path: data/members          # relative to this file
    key: member_id              # the column holding the entity id
    time: updated_at            # rows after D are left out; "latest" means greatest time
    clean:                      # cleaning steps, run in the order written
      drop_null: [member_id]    # drop rows where any of these is null
      trim: [city]              # strip leading and trailing whitespace, tabs too
      lower: [email]
      dedupe: {by: [member_id], keep: latest}   # one row per member: the latest by `time`
      filter: "status != 'deleted'"             # trusted SQL; after dedupe, a deleted latest row drops the member
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
    stream: true                # new files here update the realtime labels within seconds (`labelspark stream`)
    clean:
      drop_null: [member_id, amount]
      filter: "amount > 0"
  events:
    format: parquet
    path: data/events
    key: member_id
    time: event_time
indicators:                     # one value per entity, by name; labels read them
  # `column`: the value in the entity's latest row
  birthday:        {source: members, column: birthday}
  city:            {source: members, column: city}
  email:           {source: members, column: email}
  # `expr`: Spark SQL over other indicators and run_date; `type` lets validate check rules on it
  age:             {expr: "floor(months_between(run_date, birthday) / 12)", type: number}
  # `agg` over the entity's rows; `window: 30d` keeps the 30 days ending with D, none keeps all
  orders_30d:      {source: orders, agg: count, window: 30d}
  orders_total:    {source: orders, agg: count}
  spend_90d:       {source: orders, agg: sum, of: amount, window: 90d}
  last_order_date: {source: orders, agg: max, of: order_date}
  first_channel:   {source: orders, agg: first, of: channel}                 # first by `time`
  top_category:    {source: orders, agg: mode, of: category, window: 180d}   # most frequent; ties: smallest
  categories:      {source: orders, agg: collect_set, of: category}          # a list: sorted distinct values
  # `where`: only the rows matching a rule over the source's columns
  big_orders_30d:  {source: orders, agg: count, window: 30d, where: {field: amount, op: gte, value: 500}}
  views_7d:        {source: events, agg: count, window: 7d, where: {field: event_type, op: eq, value: view}}
  carts_30d:       {source: events, agg: count, window: 30d, where: {field: event_type, op: eq, value: cart}}
labels:                         # each label is a column of the snapshot and a field of the documents
  - id: age_band                # its column name
    name: Age band              # display name
    group: Demographics/Age     # one or two levels, for the portal
    type: string                # string | number | boolean | date | list
    method: rules               # rules | metric | first_last | preference | distribution | import
    values:                     # tried in order, the first match wins; no match: null (or `default:`)
      - {value: minor, when: {field: age, op: lt, value: 18}}
      - {value: adult, when: {all: [{field: age, op: gte, value: 18}, {field: age, op: lt, value: 60}]}}
      - {value: senior, when: {field: age, op: gte, value: 60}}
  - id: city_tier
    name: City tier
    group: Demographics/Location
    type: string
    method: rules
    values:
      - {value: tier1, when: {field: city, op: in, value: [Shanghai, Beijing, Shenzhen]}}
      - {value: new_tier1, when: {field: city, op: in, value: [Hangzhou, Chengdu, Wuhan, "Xi'an"]}}
  - id: corporate_email
    name: Corporate email
    group: Demographics
    type: boolean
    method: rules
    values:                     # ends_with, contains and starts_with match text literally; matches takes a regex
      - {value: true, when: {field: email, op: ends_with, value: "@corp.example"}}
  - id: active_buyer
    name: Active buyer
    group: Behaviour/Purchase
    type: boolean
    method: rules
    values:
      - {value: true, when: {field: orders_30d, op: gte, value: 2}}
      - {value: false, when: {field: orders_total, op: gte, value: 0}}   # everyone else: a count is never null
  - id: lapsed
    name: Lapsed customer
    group: Behaviour/Purchase
    type: boolean
    method: rules
    schedule: weekly:MON        # due on Mondays (and when never computed); kept from the last run in between
    values:
      - {value: true, when: {field: last_order_date, op: before, value: 60d}}   # before D minus 60 days
  - id: recent_buyer
    name: Bought in the last 14 days
    group: Behaviour/Purchase
    type: boolean
    method: rules
    realtime: true              # kept up to date by `labelspark stream` between nightly runs
    values:
      - {value: true, when: {field: last_order_date, op: within_last, value: 14d}}   # D-13 to D
  - id: interests
    name: Interests
    group: Behaviour/Interest
    type: list
    method: rules
    multi: true                 # every matching value, in this order (with type: list)
    values:
      - {value: fashion, when: {field: categories, op: has_any, value: [apparel, shoes]}}
      - {value: beauty, when: {field: categories, op: contains, value: beauty}}
      - {value: family, when: {field: categories, op: has_all, value: [kids, home]}}
  - id: engaged_browser
    name: Engaged browser
    group: Behaviour/Engagement
    type: string
    method: rules
    values:                     # groups: any, all, not
      - {value: high, when: {any: [{field: views_7d, op: gte, value: 5}, {field: carts_30d, op: gte, value: 3}]}}
      - {value: low, when: {not: {field: views_7d, op: gte, value: 5}}}
  - id: whale_watch
    name: Big orders this month (query-builder rule)
    group: Value
    type: boolean
    method: rules
    values:                     # a rule as query-builder UIs write it; text values are read as the field's kind
      - value: true
        when: {"combinator": "and", "not": false, "rules": [{"field": "big_orders_30d", "operator": ">=", "value": "1"}, {"field": "spend_90d", "operator": "between", "value": "1000,100000"}]}
  # metric: the indicator's value; `buckets` are the ranges label_stats counts it in
  - {id: spend_90d, name: Spend in 90 days, group: Value, type: number, method: metric, indicator: spend_90d, buckets: [0, 100, 1000]}
  - {id: last_order_date, name: Last order date, group: Value, type: date, method: metric, indicator: last_order_date}
  # first_last: a first or last value; preference: a most frequent value
  - {id: first_channel, name: First channel, group: Behaviour/Channel, type: string, method: first_last, indicator: first_channel}
  - {id: favourite_category, name: Favourite category, group: Behaviour/Interest, type: string, method: preference, indicator: top_category}
  # distribution: tiers by population quantiles; an entity gets the first tier its value does not exceed
  - {id: spend_tier, name: Spend tier, group: Value, type: string, method: distribution, indicator: spend_90d,
     tiers: {low: 0.5, mid: 0.9, high: 1.0}}
  # import: values from a file of (id, value) rows; ids that are no member are counted and ignored
  - {id: vip_list, name: VIP list, group: Value, type: boolean, method: import, path: data/vip.csv, key: member_id, value: is_vip,
     schedule: monthly:1}
segments:                       # named groups of entities, by rules over labels (`label:` leaves)
  - {id: young_big_spenders, when: {all: [{label: age_band, op: eq, value: adult}, {label: spend_90d, op: gte, value: 1000}]}}
outputs:
  warehouse: warehouse          # the Delta tables, relative to this file
  # site: site                  # the label portal, rebuilt after each run (also: labelspark site)
  # elasticsearch: {nodes: http://localhost:9200, alias: demo_retail_labels}   # publish each snapshot
  # clickhouse: {url: http://localhost:8123, table: demo_retail_labels}        # and/or to ClickHouse
"""


def write_demo(directory: str | Path, members: int = 500, seed: int = 7, force: bool = False) -> Path:
    """Writes the demo project into `directory`, new or empty unless `force`; returns the config's path."""
    root = Path(directory)
    if not force and root.exists() and not (root.is_dir() and not any(root.iterdir())):
        raise DirectoryNotEmpty(f"{root} is not an empty directory: the demo would write over its files "
                                "(choose a new directory, or pass --force)")
    data = root / "data"
    for table in ("members", "orders", "events"):
        (data / table).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = [f"m{i:05d}" for i in range(1, members + 1)]
    pq.write_table(_members(rng, ids), data / "members" / "part-0.parquet")
    pq.write_table(_orders(rng, ids), data / "orders" / "part-0.parquet")
    pq.write_table(_events(rng, ids), data / "events" / "part-0.parquet")
    vip = rng.sample(ids, members // 10) + ["m99998", "m99999"]  # two ids that are no members
    (data / "vip.csv").write_text("member_id,is_vip\n" + "".join(f"{m},{'true' if i % 5 else 'false'}\n" for i, m in enumerate(vip)))
    config = root / CONFIG_NAME
    config.write_text(CONFIG, encoding="utf-8")
    (root / SCHEMA_FILE).write_text(schema_text(), encoding="utf-8")  # what the config's first line names
    return config


def _moment(rng: random.Random, first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY) -> dt.datetime:
    span = (last - first).days
    day = first + dt.timedelta(days=rng.randint(0, span))
    return dt.datetime.combine(day, dt.time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=TZ)


def _members(rng: random.Random, ids: list[str]) -> pa.Table:
    rows = []
    for member in ids:
        birthday = dt.date(rng.randint(1950, 2012), rng.randint(1, 12), rng.randint(1, 28))
        city = rng.choice(CITIES)
        domain = "corp.example" if rng.random() < 0.2 else "mail.example"
        email = f"{member.upper()}@{domain}" if rng.random() < 0.3 else f"{member}@{domain}"
        joined = _moment(rng, FIRST_DAY, dt.date(2026, 1, 31))
        rows.append((member, birthday, rng.choice(["\t", " ", ""]) + city + rng.choice(["", "  "]), email, "active", joined))
        if rng.random() < 0.15:  # moved city later
            rows.append((member, birthday, rng.choice(CITIES), email, "active", joined + dt.timedelta(days=rng.randint(1, 60))))
        if rng.random() < 0.03:  # deleted account, as its latest version
            rows.append((member, birthday, city, email, "deleted", joined + dt.timedelta(days=61)))
    columns = list(zip(*rows))
    return pa.table(
        {
            "member_id": pa.array(columns[0], pa.string()),
            "birthday": pa.array(columns[1], pa.date32()),
            "city": pa.array(columns[2], pa.string()),
            "email": pa.array(columns[3], pa.string()),
            "status": pa.array(columns[4], pa.string()),
            "updated_at": pa.array(columns[5], pa.timestamp("us", tz="UTC")),
        }
    )


def _orders(rng: random.Random, ids: list[str]) -> pa.Table:
    rows = []
    buyers = ids[: int(len(ids) * 0.8)]  # a fifth of members never ordered
    for n in range(len(ids) * 12):
        member = rng.choice(buyers)
        moment = _moment(rng)
        amount = round(rng.lognormvariate(4.5, 1.0), 2) if rng.random() > 0.01 else None
        rows.append((f"o{n:07d}", member, moment, moment.date(), amount, rng.choice(CHANNELS), rng.choice(CATEGORIES)))
    columns = list(zip(*rows))
    return pa.table(
        {
            "order_id": pa.array(columns[0], pa.string()),
            "member_id": pa.array(columns[1], pa.string()),
            "order_time": pa.array(columns[2], pa.timestamp("us", tz="UTC")),
            "order_date": pa.array(columns[3], pa.date32()),
            "amount": pa.array(columns[4], pa.float64()),
            "channel": pa.array(columns[5], pa.string()),
            "category": pa.array(columns[6], pa.string()),
        }
    )


def _events(rng: random.Random, ids: list[str]) -> pa.Table:
    rows = []
    for _ in range(len(ids) * 8):
        member = rng.choice(ids)
        rows.append((member, _moment(rng, dt.date(2026, 2, 1)), rng.choice(["view", "view", "view", "cart", "search"])))
    columns = list(zip(*rows))
    return pa.table(
        {
            "member_id": pa.array(columns[0], pa.string()),
            "event_time": pa.array(columns[1], pa.timestamp("us", tz="UTC")),
            "event_type": pa.array(columns[2], pa.string()),
        }
    )
