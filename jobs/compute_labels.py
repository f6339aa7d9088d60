"""spark-submit entry point of the main job: compute the labels due on a date.

    scripts/submit.sh jobs/compute_labels.py conf/retail_members.yaml --date 2026-03-02

or directly:

    spark-submit --py-files dist/labelspark.zip jobs/compute_labels.py CONFIG --date D [--labels a,b]

Uses the session spark-submit made; exits 2 on a bad config, 1 on a failure at run time.
"""
import sys

from labelspark.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:], "--engine", "spark"]))
