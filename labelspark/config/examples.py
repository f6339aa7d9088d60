"""The examples of docs/config.md, one per section and label method.

Together they make one production-shaped config, which a test loads and checks against the
JSON Schema, so an example that stops being valid fails the build rather than misleading a reader.
"""
from __future__ import annotations

HEADER = """\
# yaml-language-server: $schema=labelspark.schema.json
version: 1
name: retail_members
timezone: Asia/Shanghai
"""

ENTITY = """\
entity:
  key: one_id
  kind: one_id
  id_map: {source: id_map}      # a source with columns source_id, one_id
"""

SOURCES = """\
sources:
  id_map: {format: table, table: dw.oneid_mapping, key: source_id}
  members:
    format: table
    table: dw.dim_member
    key: member_id
    time: updated_at
    clean:                      # in this order
      drop_null: [member_id]
      trim: [city]
      lower: [email]
      dedupe: {by: [member_id], keep: latest}
      filter: "status != 'deleted'"
  orders:
    format: parquet
    path: s3a://lake/ods/orders
    key: member_id
    time: paid_at
    freshness: {warn_after: 1d, error_after: 3d}
    stream: true                # `labelspark stream` reads new files as they land, for realtime labels
    clean:
      drop_null: [member_id, amount]
  coupons:
    format: jdbc                # classic Spark: the driver's jar (other databases: `driver: <class>` too); Sail: pysail[jdbc]
    options:
      url: jdbc:postgresql://crm-db.internal:5432/crm
      dbtable: public.coupons   # or query: "SELECT ..."
    options_env: {user: CRM_DB_USER, password: CRM_DB_PASSWORD}   # read from the environment at run time
    key: member_id
    time: issued_at
"""

INDICATORS = """\
indicators:
  birthday:        {source: members, column: birthday}
  city:            {source: members, column: city}
  age:             {expr: "floor(months_between(run_date, birthday) / 12)", type: number}
  orders_30d:      {source: orders, agg: count, window: 30d}
  spend_90d:       {source: orders, agg: sum, of: amount, window: 90d}
  last_order_date: {source: orders, agg: max, of: paid_at}
  first_channel:   {source: orders, agg: first, of: channel}
  top_category:    {source: orders, agg: mode, of: category, window: 180d}
  categories:      {source: orders, agg: collect_set, of: category}
  big_orders_30d:  {source: orders, agg: count, window: 30d, where: {field: amount, op: gte, value: 500}}
"""

RULES_LABEL = """\
  - id: age_band
    name: Age band
    group: Demographics/Age
    type: string
    method: rules
    values:                     # the first match wins
      - {value: minor, when: {field: age, op: lt, value: 18}}
      - {value: adult, when: {field: age, op: between, value: [18, 59]}}
      - {value: senior, when: {field: age, op: gte, value: 60}}
  - id: active_buyer
    type: boolean
    method: rules
    default: false              # when no rule matches
    realtime: true              # updated within seconds of a new order
    values:
      - {value: true, when: {field: orders_30d, op: gte, value: 2}}
  - id: interests
    type: list
    method: rules
    multi: true                 # every matching value
    values:
      - {value: fashion, when: {field: categories, op: has_any, value: [apparel, shoes]}}
      - {value: family, when: {field: categories, op: has_all, value: [kids, home]}}
"""

METRIC_LABEL = """\
  - {id: spend_90d, name: Spend in 90 days, group: Value, type: number, method: metric, indicator: spend_90d,
     buckets: [0, 100, 1000]}
"""

FIRST_LAST_LABEL = """\
  - {id: first_channel, type: string, method: first_last, indicator: first_channel, schedule: once}
"""

PREFERENCE_LABEL = """\
  - {id: favourite_category, type: string, method: preference, indicator: top_category, schedule: weekly:MON}
"""

DISTRIBUTION_LABEL = """\
  - {id: spend_tier, type: string, method: distribution, indicator: spend_90d, tiers: {low: 0.5, mid: 0.9, high: 1.0}}
"""

IMPORT_LABEL = """\
  - {id: vip, type: boolean, method: import, path: /data/crm/vip.csv, key: one_id, value: is_vip, schedule: monthly:1}
"""

SEGMENTS = """\
segments:
  - id: young_big_spenders
    name: Young big spenders
    when: {all: [{label: age_band, op: eq, value: adult}, {label: spend_90d, op: gte, value: 1000}]}
"""

OUTPUTS = """\
outputs:
  warehouse: s3a://lake/labels/retail_members
  site: /srv/www/labels
  elasticsearch:
    nodes: [https://es1.internal:9200, https://es2.internal:9200]
    alias: retail_members_labels
    username_env: LABELSPARK_ES_USER     # credentials come from the environment
    password_env: LABELSPARK_ES_PASSWORD
    ca_path: /etc/ssl/es-ca.pem
  callback:
    url: https://crm.internal/labels/done
    secret_env: LABELSPARK_CALLBACK_SECRET
"""

RULES = """\
  - id: engaged
    type: boolean
    method: rules
    values:
      - value: true
        when: {any: [{field: big_orders_30d, op: gte, value: 1},
                     {all: [{field: city, op: in, value: [Shanghai, Beijing]}, {not: {field: last_order_date, op: before, value: 30d}}]}]}
      - value: false
        when: '{"combinator": "and", "rules": [{"field": "orders_30d", "operator": "=", "value": "0"}]}'
"""

BY_MODEL = {
    "Entity": ENTITY,
    "Source": SOURCES,
    "Indicator": INDICATORS,
    "RulesLabel": RULES_LABEL,
    "MetricLabel": METRIC_LABEL,
    "FirstLastLabel": FIRST_LAST_LABEL,
    "PreferenceLabel": PREFERENCE_LABEL,
    "DistributionLabel": DISTRIBUTION_LABEL,
    "ImportLabel": IMPORT_LABEL,
    "Segment": SEGMENTS,
    "Outputs": OUTPUTS,
}


def whole_config() -> str:
    """Every example in one config file."""
    labels = [RULES_LABEL, METRIC_LABEL, FIRST_LAST_LABEL, PREFERENCE_LABEL, DISTRIBUTION_LABEL, IMPORT_LABEL, RULES]
    return "".join([HEADER, ENTITY, SOURCES, INDICATORS, "labels:\n", *labels, SEGMENTS, OUTPUTS])
