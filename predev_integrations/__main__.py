"""`python -m predev_integrations` runs the CLI."""

import sys

from .entry import main

sys.exit(main())
