"""`python -m predev_integrations` runs the CLI."""

import sys

from ._cli.entry import main

sys.exit(main())
