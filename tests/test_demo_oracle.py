"""The demo run as a user does it (CLI, Sail), checked against hand-written DuckDB SQL.

DuckDB reads the same parquet files; delta-rs reads what labelspark wrote. Neither shares
code with labelspark, so agreement is evidence, not an echo.
"""
import subprocess
import sys

import duckdb
import pytest

from labelspark.warehouse.deltars import read_rows


DATE = "2026-03-31"
END = "TIMESTAMPTZ '2026-04-01 00:00:00+08'"  # the end of the run date in Asia/Shanghai


def since(day: str) -> str:
    return f"TIMESTAMPTZ '{day} 00:00:00+08'"


ORACLE = f"""
WITH orders AS (
    SELECT * FROM read_parquet('data/orders/*.parquet')
    WHERE order_time < {END} AND member_id IS NOT NULL AND amount IS NOT NULL AND amount > 0
),
latest_members AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY member_id ORDER BY updated_at DESC, status DESC) AS rn
        FROM read_parquet('data/members/*.parquet') WHERE updated_at < {END} AND member_id IS NOT NULL
    ) WHERE rn = 1 AND status != 'deleted'
),
events AS (SELECT * FROM read_parquet('data/events/*.parquet') WHERE event_time < {END}),
entities AS (
    SELECT member_id FROM latest_members UNION SELECT member_id FROM orders UNION SELECT member_id FROM events
),
spend AS (
    SELECT member_id,
           -- the contract: sums of doubles exact (the demo's amounts have 2 places), one rounding at the end
           sum(amount::DECIMAL(18, 2)) FILTER (WHERE order_time >= {since('2026-01-01')})::DOUBLE AS spend_90d,
           count(*) FILTER (WHERE order_time >= {since('2026-03-02')}) AS orders_30d
    FROM orders GROUP BY member_id
),
category_counts AS (
    SELECT member_id, category, count(*) AS n FROM orders
    WHERE order_time >= {since('2025-10-03')} GROUP BY member_id, category
),
favourite AS (
    SELECT member_id, category FROM (
        SELECT *, row_number() OVER (PARTITION BY member_id ORDER BY n DESC, category ASC) AS rn FROM category_counts
    ) WHERE rn = 1
),
first_channel AS (
    SELECT member_id, channel FROM (
        SELECT member_id, channel, row_number() OVER (PARTITION BY member_id ORDER BY order_time, channel) AS rn
        FROM orders WHERE channel IS NOT NULL
    ) WHERE rn = 1
),
tiers AS (
    SELECT quantile_cont(spend_90d, 0.5) AS q50, quantile_cont(spend_90d, 0.9) AS q90, quantile_cont(spend_90d, 1.0) AS q100
    FROM spend WHERE spend_90d IS NOT NULL
)
SELECT e.member_id,
       s.spend_90d,
       coalesce(s.orders_30d, 0) >= 2 AS active_buyer,
       CASE WHEN s.spend_90d <= t.q50 THEN 'low' WHEN s.spend_90d <= t.q90 THEN 'mid'
            WHEN s.spend_90d <= t.q100 THEN 'high' END AS spend_tier,
       f.category AS favourite_category,
       c.channel AS first_channel
FROM entities e
LEFT JOIN spend s USING (member_id)
LEFT JOIN favourite f USING (member_id)
LEFT JOIN first_channel c USING (member_id)
CROSS JOIN tiers t
ORDER BY e.member_id
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle")
    subprocess.run([sys.executable, "-m", "labelspark", "demo", str(root / "demo")], check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-m", "labelspark", "run", "labelspark.yaml", "--date", DATE],
        cwd=root / "demo", capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return root / "demo", done


def test_run_reports_progress_per_pass(demo_run):
    _, done = demo_run
    assert "pass 1/3: source members" in done.stderr
    assert "pass 2/3: source orders -> 8 indicators" in done.stderr
    assert "label_snapshot 2026-03-31: 500 entities" in done.stderr


def test_labels_match_hand_written_duckdb(demo_run):
    root, _ = demo_run
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    expected = {row[0]: row[1:] for row in con.execute(ORACLE.replace("data/", f"{root}/data/")).fetchall()}
    snapshot = read_rows(str(root / "warehouse" / "label_snapshot")).to_pylist()
    actual = {
        row["member_id"]: (row["spend_90d"], row["active_buyer"], row["spend_tier"], row["favourite_category"], row["first_channel"])
        for row in snapshot
    }
    assert actual.keys() == expected.keys()
    assert len(actual) == 500
    for member, (spend, active, tier, favourite, channel) in expected.items():
        got = actual[member]
        assert got == (spend, active, tier, favourite, channel), member  # sums too: bit for bit
    assert {row[2] for row in expected.values()} == {"low", "mid", "high", None}
