import sys

from labelspark.cli import main

sys.exit(main())
