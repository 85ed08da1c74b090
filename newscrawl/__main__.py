"""``python -m newscrawl``: the command line of :mod:`newscrawl.ops.cli`."""

import sys

from newscrawl.ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
