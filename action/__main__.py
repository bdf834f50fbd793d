"""Entry point of the composite action (``python -m action``); see ``action/run.py``."""

from __future__ import annotations

import sys

from action.run import main

if __name__ == "__main__":
    sys.exit(main())
