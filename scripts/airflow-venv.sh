#!/usr/bin/env bash
# Virtualenvs holding a real Apache Airflow, apart from the project's (Airflow pins its own versions
# of many libraries), for tests/test_airflow.py. Prints each virtualenv's python. Idempotent: a
# virtualenv already holding its Airflow version is kept as it is.
#
#   scripts/airflow-venv.sh [VERSION...]    versions of apache-airflow [3.3.2 2.11.2]
#
# The versions of Airflow's dependencies come from its constraints file for the release and this
# Python; where raw.githubusercontent.com is out of reach, from the pins recorded in
# conf/orchestration/airflow-constraints/VERSION-pyX.Y.txt (written by a first install without
# constraints, whose resolution the tests then passed).
#
# Environment:
#   LABELSPARK_AIRFLOW_DIR   where the virtualenvs go, one airflow-VERSION each [~/.cache/labelspark]
#   PYTHON                   the interpreter to base them on [python3]
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${LABELSPARK_AIRFLOW_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark}
python=${PYTHON:-python3}
py=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

holds() {  # holds VENV VERSION: the virtualenv's Airflow is that version
  [[ -x "$1/bin/python" ]] && [[ "$("$1/bin/python" -c \
    'import importlib.metadata as m; print(m.version("apache-airflow"))' 2>/dev/null)" == "$2" ]]
}

install() {  # install VERSION
  local version=$1 venv="$dir/airflow-$1" constraints
  local url="https://raw.githubusercontent.com/apache/airflow/constraints-$version/constraints-$py.txt"
  local recorded="$root/conf/orchestration/airflow-constraints/$version-py$py.txt"
  if holds "$venv" "$version"; then echo "$venv/bin/python"; return; fi
  constraints=$(mktemp)
  if curl -fsSL --max-time 30 "$url" -o "$constraints" 2>/dev/null; then
    echo "airflow-venv.sh: constraints from $url" >&2
  elif [[ -f "$recorded" ]]; then
    echo "airflow-venv.sh: $url out of reach; constraints from $recorded" >&2
    cp "$recorded" "$constraints"
  else
    echo "airflow-venv.sh: $url out of reach and no $recorded: installing unconstrained" >&2
    : >"$constraints"
  fi
  rm -rf "$venv"
  mkdir -p "$dir"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q "apache-airflow==$version" --constraint "$constraints" >&2
  if [[ ! -s "$constraints" ]]; then
    mkdir -p "$(dirname "$recorded")"
    "$venv/bin/python" -m pip freeze --exclude pip | grep -v '^apache-airflow==' >"$recorded"
    echo "airflow-venv.sh: recorded the versions installed in $recorded" >&2
  fi
  rm -f "$constraints"
  holds "$venv" "$version" || { echo "airflow-venv.sh: $venv does not hold apache-airflow $version" >&2; exit 1; }
  echo "$venv/bin/python"
}

versions=("$@")
((${#versions[@]})) || versions=(3.3.2 2.11.2)
for version in "${versions[@]}"; do install "$version"; done
