"""The jars of classic Spark: every pinned coordinate exists on Maven Central, the pins follow the
Spark line, and a local session takes them from a folder before asking Spark to resolve them."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labelspark.engine import jars
from labelspark.cli.demo import write_demo
from labelspark.errors import EngineError, UnsupportedSpark
from labelspark.warehouse.deltars import read_rows

ROOT = Path(__file__).resolve().parent.parent


def test_every_pinned_coordinate_resolves_from_maven_central(tmp_path):
    if shutil.which("mvn") is None:
        pytest.fail("needs Maven (mvn) on PATH: .ci/run installs it")
    # a fresh local repository, so that nothing is found in a cache: each jar comes from Maven Central
    repository = tmp_path / "m2"
    missing, offline = [], []
    # each coordinate once: several lines pin the same jar (delta-storage, PostgreSQL's driver), and
    # once in the fresh repository a second fetch of it would find it there, not on Maven Central
    pins = list({pin.coordinate: pin for pin in jars.all_pins()}.values())
    # fetched by one Maven run per round (each a JVM start), not one per coordinate: a round is a
    # project depending on its pins alone (no transitive jar), at most one version of an artifact
    rounds: list[list] = []
    for pin in pins:
        artifact = pin.coordinate.rsplit(":", 1)[0]
        fits = next((r for r in rounds if all(p.coordinate.rsplit(":", 1)[0] != artifact for p in r)), None)
        if fits is None:
            rounds.append(fits := [])
        fits.append(pin)
    for number, pins_of_round in enumerate(rounds):
        project = tmp_path / f"round-{number}" / "pom.xml"
        project.parent.mkdir()
        project.write_text(pom(pins_of_round), encoding="utf-8")
        done = subprocess.run(
            ["mvn", "-B", "-Dstyle.color=never", f"-Dmaven.repo.local={repository}", "-f", str(project), "dependency:resolve"],
            capture_output=True, text=True, timeout=600,
        )
        for pin in pins_of_round:
            group, artifact, version = pin.coordinate.split(":")
            if any(repository.rglob(pin.jar_name)):
                continue
            if f"Could not find artifact {group}:{artifact}:jar:{version}" in done.stdout:
                missing.append(pin.coordinate)
            else:
                offline.append(pin.coordinate)
        assert done.returncode == 0 or missing or offline, done.stdout[-3000:]
    if offline and not missing and os.environ.get("CI") != "true":
        pytest.skip(f"Maven Central not reachable from here (Maven could not transfer {offline[0]})")
    assert not missing and not offline, f"not on Maven Central: {missing}; not transferred: {offline}"


def pom(pins) -> str:
    """A project whose dependencies are the pins' jars alone (every transitive one excluded)."""
    dependencies = "".join(
        "<dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version>"
        "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"
        "</dependency>".format(*pin.coordinate.split(":")) for pin in pins)
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>labelspark.test</groupId><artifactId>pins</artifactId><version>0</version>"
            f"<dependencies>{dependencies}</dependencies></project>")


def test_each_spark_line_pins_delta_built_for_it():
    lines = {(pin.spark, pin.scala): pin for pin in jars.all_pins() if "delta-spark" in pin.coordinate}
    # Delta's artifact built for that very Spark line (not delta-spark 4.1.0: it breaks on Spark 4.1.2+)
    assert lines[("4.1", "2.13")].coordinate == "io.delta:delta-spark_4.1_2.13:4.4.0"
    assert lines[("4.0", "2.13")].coordinate == "io.delta:delta-spark_4.0_2.13:4.4.0"
    assert lines[("3.5", "2.12")].coordinate.startswith("io.delta:delta-spark_2.12:3.3.")
    for pin in jars.all_pins():  # each delta-spark comes with the delta-storage of its version
        if "delta-spark" in pin.coordinate:
            version = pin.coordinate.rsplit(":", 1)[1]
            assert any(other.coordinate == f"io.delta:delta-storage:{version}" and other.spark == pin.spark
                       for other in jars.all_pins())
    # ES-Hadoop has no Spark 4 module released: nothing pinned for Spark 4 but Delta and the JDBC driver
    assert {pin.role for pin in jars.all_pins() if pin.spark.startswith("4.")} == {"delta", "jdbc"}
    # PostgreSQL's driver for `format: jdbc` sources, on every line
    assert {(pin.spark, pin.scala) for pin in jars.all_pins() if pin.coordinate.startswith("org.postgresql:postgresql:42.7.")} \
        == {(pin.spark, pin.scala) for pin in jars.all_pins()}


def test_a_folder_of_jars_comes_before_resolution_by_spark(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(jars.JARS_VARIABLE, raising=False)
    settings, origin = jars.session_settings("4.1.4", "2.13")
    assert settings["spark.jars.packages"] == "io.delta:delta-spark_4.1_2.13:4.4.0,io.delta:delta-storage:4.4.0,org.postgresql:postgresql:42.7.14"
    assert "spark.jars" not in settings and "Ivy" in origin

    folder = jars.default_folder("4.1.4", "2.13")  # where scripts/fetch-jars.sh puts them
    folder.mkdir(parents=True)
    for name in ("delta-spark_4.1_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"):
        (folder / name).touch()
    settings, _ = jars.session_settings("4.1.4", "2.13")
    assert settings["spark.jars"].split(",") == [str(folder / "delta-spark_4.1_2.13-4.4.0.jar"), str(folder / "delta-storage-4.4.0.jar")]
    assert settings["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert settings["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def test_a_named_folder_without_the_delta_jars_is_an_error_naming_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(jars.JARS_VARIABLE, str(tmp_path))
    with pytest.raises(EngineError, match=r"lacks delta-spark_4.1_2.13-4.4.0.jar, delta-storage-4.4.0.jar .*fetch-jars.sh"):
        jars.session_settings("4.1.4", "2.13")


def test_fetch_script_fills_a_folder_with_the_jars_of_a_spark_line(tmp_path):
    if shutil.which("mvn") is None:
        pytest.fail("needs Maven (mvn) on PATH: .ci/run installs it")
    env = {**os.environ, "LABELSPARK_SPARK_VERSION": "4.0.5", "LABELSPARK_SCALA_VERSION": "2.13"}
    done = subprocess.run([str(ROOT / "scripts" / "fetch-jars.sh"), str(tmp_path / "jars")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "jars")
    assert sorted(p.name for p in (tmp_path / "jars").iterdir()) == ["delta-spark_4.0_2.13-4.4.0.jar", "delta-storage-4.4.0.jar", "postgresql-42.7.14.jar"]


def test_without_a_folder_spark_resolves_delta_from_maven_central_itself(tmp_path):
    """No folder of jars and empty caches (a fresh user home for the JVM): the local session asks
    Spark to resolve Delta (`spark.jars.packages`, Ivy) and the run writes its Delta tables."""
    config = write_demo(tmp_path / "demo", members=50)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "JAVA_TOOL_OPTIONS": f"-Duser.home={tmp_path / 'home'}"}
    env.pop(jars.JARS_VARIABLE, None)
    done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31", "--engine", "spark"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 and "not found. url=" in done.stderr and os.environ.get("CI") != "true":
        pytest.skip("Maven Central not reachable from here (Ivy could not find its hosts)")
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = [pin for pin in jars.pins_for(*jars.installed_spark()) if pin.role in jars.RESOLVED_BY_SPARK]
    assert f"{','.join(pin.coordinate for pin in resolved)} resolved by Spark (Ivy)" in done.stderr
    for pin in resolved:  # in the fresh home's Ivy cache, named group_artifact-version.jar
        assert any((tmp_path / "home").rglob(f"{pin.coordinate.split(':')[0]}_{pin.jar_name}")), pin.coordinate
    assert read_rows(str(tmp_path / "demo" / "warehouse" / "label_snapshot")).num_rows == 50


def test_a_spark_outside_the_pinned_range_is_refused_naming_both_versions_and_what_fits():
    for version, scala, named in (("4.1.9", "2.13", "io.delta:delta-spark_4.1_2.13:4.4.0"), ("3.5.2", "2.12", "io.delta:delta-spark_2.12:3.3.2")):
        with pytest.raises(UnsupportedSpark, match=rf"Spark {version} is not supported by {named} \(labelspark/engine/jars.txt: Spark \d"):
            jars.pins_for(version, scala)
    with pytest.raises(UnsupportedSpark, match=r"no Delta Lake jars pinned for Spark 4.2.1 with Scala 2.13: .*pip install 'pyspark==4.1.4'"):
        jars.pins_for("4.2.1", "2.13")
    assert UnsupportedSpark("x").exit_code == 2  # bad setup, not worth a retry
    assert [pin.coordinate for pin in jars.pins_for("4.1.4", "2.13")][0] == "io.delta:delta-spark_4.1_2.13:4.4.0"
    assert [pin.coordinate for pin in jars.pins_for("3.5.9", "2.12")][0] == "io.delta:delta-spark_2.12:3.3.2"


def test_the_scripts_ask_the_same_check(tmp_path):
    """fetch-jars.sh and submit.sh (even --dry-run) exit 2 with the message for a Spark the pins do not support."""
    env = {**os.environ, "LABELSPARK_SPARK_VERSION": "4.1.9", "LABELSPARK_SCALA_VERSION": "2.13"}
    for command in (["fetch-jars.sh", str(tmp_path / "jars")], ["submit.sh", "--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml"]):
        done = subprocess.run([str(ROOT / "scripts" / command[0]), *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (command, done.stderr)
        assert "Spark 4.1.9 is not supported by io.delta:delta-spark_4.1_2.13:4.4.0" in done.stderr, done.stderr
    assert not (tmp_path / "jars").exists()


def test_setup_allows_exactly_the_pyspark_versions_the_delta_pins_support():
    """A fresh install can only resolve a PySpark some pinned Delta jar supports: the union of the ranges."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    [line] = [line for line in setup.splitlines() if line.strip().startswith('"pyspark')]
    allowed = Requirement(line.strip().strip('",')).specifier
    ranges = jars.supported_ranges()
    low = min((pin.first for pin in ranges), key=jars.version_tuple)
    high = max((pin.last for pin in ranges), key=jars.version_tuple)
    assert str(allowed) == f"<={high},>={low}" or set(map(str, allowed)) == {f">={low}", f"<={high}"}
    # and nothing between the lines that no pin supports (3.5.9 < 4.0.0 is the only gap: no 3.6 exists)
    lines = sorted((jars.version_tuple(pin.first), jars.version_tuple(pin.last)) for pin in ranges)
    for (_, last), (first, _) in zip(lines, lines[1:]):
        assert first[:2] != last[:2] and first[2] == 0 and (first[0], first[1]) in ((last[0] + 1, 0), (last[0], last[1] + 1)), (last, first)
    for pin in ranges:  # each range's ends are real PySpark releases pip can install
        assert Version(pin.first) in allowed and Version(pin.last) in allowed
