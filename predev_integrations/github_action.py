"""`python -m predev_integrations.github_action`: the GitHub Action's check step.

`action.yml` runs it; like `__main__`, it only hands over to the entry point.
"""

import sys

from ._cli.entry import action_main

if __name__ == "__main__":  # pragma: no cover - the Action's entry point
    sys.exit(action_main())
