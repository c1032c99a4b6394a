"""``python -m sim.cli``: the same as the ``convsim`` command."""

import sys

from sim.cli import main

sys.exit(main())
