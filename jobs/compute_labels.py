"""spark-submit entry point of the main job: compute the labels due on a date and write the tables.

    scripts/submit.sh jobs/compute_labels.py conf/retail_members.yaml --date 2026-03-02

which runs, with the Delta and ES-Hadoop packages and the settings of conf/spark-defaults.conf:

    spark-submit --py-files dist/labelspark.zip jobs/compute_labels.py CONFIG --date D [--labels a,b]

Runs on the session spark-submit made (`--engine spark`, unless another engine is given);
exits as `labelspark` does (README, "Exit codes"): 2 bad config or arguments, 1 a failure at run time
(logged with its trace), 75 the warehouse busy with another run, 143 stopped by SIGTERM.
"""
import sys

from labelspark.cli import main

if __name__ == "__main__":
    # cluster logs keep the trace of a failure; an --engine given (either spelling) comes later and wins
    sys.exit(main(["--verbose", "run", "--engine", "spark", *sys.argv[1:]], ends_the_process=True))
