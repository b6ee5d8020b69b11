"""`python -m bench` prints the benchmark table."""

import sys

from .run import main

sys.exit(main())
