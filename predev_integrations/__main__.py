"""`python -m predev_integrations` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
