"""spark-submit entry point: (re)publish the label snapshot of a date to Elasticsearch.

    scripts/submit.sh jobs/publish_labels.py conf/retail_members.yaml --date 2026-03-02

Runs on the session spark-submit made (`--engine spark`, unless another engine is given);
exits as `labelspark` does (README, "Exit codes"): 2 bad config or arguments, 1 a failure (the alias
then stays where it was), 75 the warehouse busy with another run, 143 stopped by SIGTERM.
"""
import sys

from labelspark.cli import main

if __name__ == "__main__":
    # cluster logs keep the trace of a failure; an --engine given (either spelling) comes later and wins
    sys.exit(main(["--verbose", "publish", "--engine", "spark", *sys.argv[1:]], ends_the_process=True))
