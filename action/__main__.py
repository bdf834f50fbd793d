"""Entry point of the composite action. Until the GitHub client lands (issues 3 and 5) this says so
plainly and fails, rather than reporting a scan that did not happen."""

from __future__ import annotations

import sys

MESSAGE = (
    "::error title=Watchpost::The Watchpost action is not available in this version yet: it needs the "
    "GitHub client that ships with the App. Run `watchpost scan-pr` on a diff in the meantime."
)


def main() -> int:
    print(MESSAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main())
