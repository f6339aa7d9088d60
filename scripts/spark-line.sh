#!/usr/bin/env bash
# A virtualenv for the Spark 3.5 line: PySpark 3.5 (classic) with labelspark installed from this
# checkout (editable), and the jars jars.txt pins for it (Delta 3.3, ES-Hadoop) fetched into the
# folder `labelspark run --engine spark` and scripts/submit.sh look in. Idempotent: a venv that
# already has both is left as it is. Prints the venv's python.
#
#   scripts/spark-line.sh [VENV]
#
# VENV defaults to .venv-spark35 in the checkout. The tests find it there, or by
# LABELSPARK_SPARK35_PYTHON=VENV/bin/python. Start a cluster of that line with
#   PYTHON=VENV/bin/python scripts/local-cluster.sh start
#
# Environment:
#   PYTHON   the interpreter the venv is made from [python3]
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv-spark35}
python=$venv/bin/python
# the Spark 3.5 patch versions its Delta jar supports, as jars.txt pins them (e.g. 3.5.3-3.5.9)
supported=$(awk '!/^#/ && $1 == "3.5" && $2 == "2.12" && $4 ~ /delta-spark/ { print $5 }' "$root/labelspark/engine/jars.txt")
pyspark_wanted="pyspark>=${supported%-*},<=${supported#*-}"

ready() {
  (cd / && "$python" - "$root" "${supported%-*}" "${supported#*-}") <<'PY' 2>/dev/null  # from / so the checkout is not on sys.path
import pathlib, sys
import labelspark, pyspark
# a supported 3.5 patch, and this checkout's labelspark (editable), not a copy of another
patch = lambda version: tuple(int(part) for part in version.split(".")[:3])
ok = patch(sys.argv[2]) <= patch(pyspark.__version__) <= patch(sys.argv[3]) and pathlib.Path(labelspark.__file__).resolve().is_relative_to(pathlib.Path(sys.argv[1]).resolve())
sys.exit(0 if ok else 1)
PY
}

if ! ready; then
  [[ -x "$python" ]] || "${PYTHON:-python3}" -m venv "$venv"
  # one resolution, so pip never lifts pyspark to the 4.x setup.py also allows
  "$python" -m pip install --quiet "$pyspark_wanted" -e "$root" >&2
  ready || { echo "spark-line.sh: $venv does not import this checkout's labelspark with PySpark $supported" >&2; exit 1; }
fi
PYTHON=$python "$root/scripts/fetch-jars.sh" >/dev/null
echo "$python"
