#!/usr/bin/env bash
# Submits a labelspark job to a Spark cluster. A stub for now: it runs the job with the
# classic engine through spark-submit; packaging (--py-files), the Delta and ES-Hadoop
# packages and cluster settings come with the deployment work.
#   scripts/submit.sh jobs/compute_labels.py CONFIG --date YYYY-MM-DD
set -euo pipefail
if [[ $# -lt 1 || "$1" == "--help" || "$1" == "-h" ]]; then
  sed -n '2,5p' "$0"
  exit 0
fi
exec spark-submit "$@"
