"""`python -m s2s.cli`: the same as the `s2s-grad` command."""

import sys

from .main import main

sys.exit(main())
