"""spark-submit entry point: real-time labels, until stopped.

    scripts/submit.sh jobs/stream_labels.py conf/retail_members.yaml

Runs on the session spark-submit made; exits as `labelspark stream` does (README, "Real-time
labels"): 143 stopped by SIGTERM between batches (a restart goes on from the checkpoint), 2 bad
config or arguments, 1 a failure, 75 another stream holds the checkpoint.
"""
import sys

from labelspark.cli import main

if __name__ == "__main__":
    sys.exit(main(["--verbose", "stream", *sys.argv[1:]], ends_the_process=True))
