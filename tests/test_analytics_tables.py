"""`profile`, `compare`, `audit` and `diff` against an oracle in plain Python over the snapshot
rows of a generated warehouse (three runs, see tests/support/generated.py).

The oracle reads `label_snapshot` whole with delta-rs and follows the contract: text forms
of values, buckets, list elements, shares, lift, PSI over values or the earlier date's
deciles, transitions. It shares no code with labelspark.analytics.
"""
import bisect
import collections
import csv
import io
import json
import math
import subprocess
import sys

import pytest

from labelspark.analytics.audit import audit
from labelspark.analytics.compare import compare
from labelspark.analytics.diff import diff
from labelspark.analytics.profile import profile
from labelspark.config import load_project
from labelspark.warehouse.deltars import read_rows
from tests.support.generated import D1, D2, D3, SKIPPED, generate, run_three_days

EDGES = [0, 20, 60]
BUCKETS = ["(-inf,0)", "[0,20)", "[20,60)", "[60,+inf)"]


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    generated = generate(tmp_path_factory.mktemp("analytics"))
    run_three_days(spark, generated)
    return generated


@pytest.fixture(scope="module")
def project(generated):
    return load_project(generated.edited)  # D3's definitions; every label id is the same


@pytest.fixture(scope="module")
def snapshot(generated):
    """date -> entity -> row, read whole: the oracle's input."""
    rows = read_rows(str(generated.warehouse / "label_snapshot")).to_pylist()
    by_date = collections.defaultdict(dict)
    for row in rows:
        by_date[row["snapshot_date"]][row["member_id"]] = row
    return by_date


def text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.9f}".rstrip("0").rstrip(".")
    if isinstance(value, list):  # history's form: sorted JSON
        return json.dumps(sorted(value), separators=(",", ":"))
    return str(value)


def bucket(value):
    return None if value is None else BUCKETS[sum(value >= edge for edge in EDGES)]


def counted_values(label, value):
    """What label_stats counts for one entity: list elements (none: null), a bucket, or the value."""
    if label.type == "list":
        return sorted(set(value)) if value else [None]
    if label.id == "spend_band":
        return [bucket(value)]
    return [text(value)]


def distribution(label, rows):
    counts = collections.Counter()
    for row in rows:
        counts.update(counted_values(label, row[label.id]))
    return counts


def test_profile_is_the_row_with_the_start_of_each_unbroken_run(generated, project, snapshot):
    dates = [D1, D2, D3]
    for entity in sorted(snapshot[D3])[::9]:
        document = profile(project, entity, D3)
        found = {row["label"]: row for row in document["labels"]}
        for label in project.enabled_labels:
            value = snapshot[D3][entity][label.id]
            since = None
            if value is not None:
                since = D3
                for day in reversed(dates[:-1]):
                    if text(snapshot[day][entity][label.id]) != text(value):
                        break
                    since = day
            assert found[label.id]["value"] == value, (entity, label.id)
            assert found[label.id]["since"] == since, (entity, label.id)
            assert found[label.id]["group"] == label.group
        groups = [row["group"] for row in document["labels"]]
        assert groups == sorted(groups, key=lambda g: (g is None, g or ""))


@pytest.mark.parametrize("other", ["golds", None])
def test_compare_counts_shares_and_lifts(project, snapshot, other):
    document = compare(project, "busy", other, D2, ["activity", "vip_tier", "interests", "spend_band", "keen", "spend"])
    rows = snapshot[D2].values()
    in_a = [row for row in rows if row["activity"] == "high"]
    in_b = [row for row in rows if row["vip_tier"] == "gold"] if other else [row for row in rows if row["activity"] != "high"]
    assert (document["a"]["entities"], document["b"]["entities"]) == (len(in_a), len(in_b))
    assert document["b"]["name"] == (other or "rest")
    for result in document["labels"]:
        label = project.label(result["label"])
        a, b = distribution(label, in_a), distribution(label, in_b)
        assert {row["value"] for row in result["values"]} == set(a) | set(b)
        for row in result["values"]:
            a_share, b_share = a[row["value"]] / len(in_a), b[row["value"]] / len(in_b)
            assert (row["a_users"], row["b_users"]) == (a[row["value"]], b[row["value"]])
            assert row["a_share"] == pytest.approx(a_share) and row["b_share"] == pytest.approx(b_share)
            assert row["lift"] == (pytest.approx(a_share / b_share) if b_share else None)


def test_compare_leaves_open_numbers_out_unless_named(project):
    compared = [label["label"] for label in compare(project, "busy", None, D3)["labels"]]
    assert "spend" not in compared and "spend_band" in compared and "interests" in compared


def psi(now, before, epsilon=1e-4):
    total_now, total_before = sum(now.values()), sum(before.values())
    result = 0.0
    for key in set(now) | set(before):
        a = max(now.get(key, 0) / total_now, epsilon)
        b = max(before.get(key, 0) / total_before, epsilon)
        result += (a - b) * math.log(a / b)
    return result


def deciles_binned(now, before):
    """Open numbers: bins (e[k-1], e[k]] with e the earlier date's deciles; null its own bin."""
    values = sorted(v for v, n in before.items() if v is not None for _ in range(n))
    edges = sorted({values[math.ceil(i * len(values) / 10) - 1] for i in range(1, 10)})

    def binned(counts):
        out = collections.Counter()
        for v, n in counts.items():
            out[None if v is None else bisect.bisect_left(edges, v)] += n
        return out

    return binned(now), binned(before)


def test_psi_counts_an_empty_bin_as_epsilon():
    from labelspark.analytics.audit import psi as labelspark_psi

    now, before = {"a": 6, "b": 3, None: 1}, {"a": 2, "c": 8}
    assert labelspark_psi(now, before) == pytest.approx(psi(now, before), abs=1e-12)
    assert labelspark_psi(now, now) == 0


@pytest.mark.parametrize("day,previous,skipped_days", [(D3, D2, 2), (D2, D1, 1)])
def test_audit_coverage_distinct_top_share_staleness_and_psi(project, snapshot, day, previous, skipped_days):
    document = audit(project, day)
    assert document["previous_date"] == previous
    found = {row["label"]: row for row in document["labels"]}
    assert set(found) == {label.id for label in project.enabled_labels}
    rows_now, rows_before = list(snapshot[day].values()), list(snapshot[previous].values())
    for label in project.enabled_labels:
        now = distribution(label, rows_now)
        values = {v: n for v, n in now.items() if v is not None}
        with_value = len(rows_now) - now[None]
        row = found[label.id]
        assert row["coverage"] == pytest.approx(with_value / len(rows_now)), label.id
        assert row["distinct"] == len(values), label.id
        assert row["top_share"] == (pytest.approx(max(values.values()) / with_value) if values else None), label.id
        assert row["days_since_computed"] == (skipped_days if label.id == SKIPPED else 0)
        if label.id == "spend":
            numbers = lambda rows: collections.Counter(row["spend"] for row in rows)  # noqa: E731
            expected = psi(*deciles_binned(numbers(rows_now), numbers(rows_before)))
        else:
            expected = psi(now, distribution(label, rows_before))
        assert row["psi"] == pytest.approx(expected, abs=1e-12), label.id
        flags = {"empty"} if not values else ({"constant"} if len(values) == 1 and not now[None] else set())
        flags |= {"stale"} if label.id == SKIPPED and skipped_days > 1 else set()  # daily: one day's grace
        flags |= {"drifting"} if expected >= 0.25 else set()
        assert set(row["flags"]) == flags, label.id
    assert "empty" in found["never"]["flags"] and "constant" in found["everyone"]["flags"]
    if day == D3:  # the edited `activity` moves enough to show it
        assert "drifting" in found["activity"]["flags"]


def test_audit_of_the_first_date_has_no_drift(project):
    document = audit(project, D1)
    assert document["previous_date"] is None
    assert all(row["psi"] is None and row["days_since_computed"] == 0 for row in document["labels"])


@pytest.mark.parametrize("start,end", [(D1, D3), (D3, D1), (D1, D2)])
def test_diff_changed_entered_left_transitions_and_definitions(project, snapshot, start, end):
    document = diff(project, start, end, top=0)
    assert (document["from"], document["to"]) == (start, end)
    entities = set(snapshot[start]) | set(snapshot[end])
    for result in document["labels"]:
        label = project.label(result["label"])

        def raw(day, entity):
            v = snapshot[day].get(entity, {}).get(label.id)
            return (", ".join(sorted(v)) or None) if isinstance(v, list) else text(v)

        def value(day, entity):
            v = snapshot[day].get(entity, {}).get(label.id)
            return bucket(v) if label.id == "spend_band" and v is not None else raw(day, entity)

        pairs = [(raw(start, e), raw(end, e)) for e in entities]
        assert result["changed"] == sum(a is not None and b is not None and a != b for a, b in pairs), label.id
        assert result["entered"] == sum(a is None and b is not None for a, b in pairs), label.id
        assert result["left"] == sum(a is not None and b is None for a, b in pairs), label.id
        moves = collections.Counter((value(start, e), value(end, e)) for e in entities)
        moves.pop((None, None), None)
        assert {(t["from"], t["to"]): t["users"] for t in result["transitions"]} == dict(moves), label.id
        assert result["transitions_total"] == len(moves)
        assert result["definition_changed"] is (label.id == "activity" and D3 in (start, end)), label.id


def test_diff_keeps_the_top_transitions(project):
    (result,) = diff(project, D1, D3, "spend", top=3)["labels"]
    users = [t["users"] for t in result["transitions"]]
    assert len(users) == 3 and users == sorted(users, reverse=True) and result["transitions_total"] > 3


def labelspark(*args, cwd):
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def as_json(document):
    return json.loads(json.dumps(document, default=str))


def test_cli_json_csv_export_and_chart(generated, project, tmp_path):
    config = str(generated.edited)
    done = labelspark("compare", config, "--segment", "busy", "--segment", "golds", "--date", str(D2), "--format", "json",
                      "--chart", str(tmp_path / "c.png"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == as_json(compare(project, "busy", "golds", D2))
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    done = labelspark("audit", config, "--format", "csv", "--export", str(tmp_path / "audit.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = list(csv.DictReader(io.StringIO(done.stdout)))
    assert printed == list(csv.DictReader(open(tmp_path / "audit.csv", newline="")))
    expected = audit(project, D3)["labels"]
    assert [(r["label"], r["distinct"], r["flags"]) for r in printed] == [
        (r["label"], str(r["distinct"]), ";".join(r["flags"])) for r in expected]

    done = labelspark("diff", config, "--from", str(D1), "--to", str(D3), "--label", "activity", "--export", str(tmp_path / "d.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "activity" in done.stdout and "definition_changed" in done.stdout
    exported = list(csv.DictReader(open(tmp_path / "d.csv", newline="")))
    (result,) = diff(project, D1, D3, "activity")["labels"]
    assert [(r["from"], r["to"], int(r["users"])) for r in exported] == [(t["from"] or "", t["to"] or "", t["users"]) for t in result["transitions"]]

    done = labelspark("profile", config, "--entity", "u042", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == as_json(profile(project, "u042"))


@pytest.mark.parametrize("args,known", [
    (["profile", "--entity", "nobody"], "nearest ids: u000"),
    (["profile", "--entity", "u001", "--date", "2026-03-05"], "nearest: 2026-03-04"),
    (["compare", "--segment", "bussy", "--rest"], "segments: busy, golds"),
    (["diff", "--from", str(D1), "--to", str(D2), "--label", "actvity"], "did you mean 'activity'"),
    (["diff", "--from", str(D1), "--to", str(D2), "--label", "dormant"], "labels there:"),
])
def test_unknown_names_exit_2_with_the_known_ones(generated, tmp_path, args, known):
    done = labelspark(args[0], str(generated.edited), *args[1:], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert known in done.stderr


def test_audit_fail_on(generated, tmp_path):
    stale = labelspark("audit", str(generated.edited), "--fail-on", "stale,drift", "--format", "json", cwd=tmp_path)
    assert stale.returncode == 1 and f"{SKIPPED}: stale" in stale.stderr
    assert json.loads(stale.stdout)["date"] == str(D3)  # the answer is printed before failing
    calm = labelspark("audit", str(generated.edited), "--date", str(D2), "--fail-on", "stale,drift", "--psi-threshold", "100", cwd=tmp_path)
    assert calm.returncode == 0, calm.stderr
    assert labelspark("audit", str(generated.edited), "--fail-on", "wobbly", cwd=tmp_path).returncode == 2
