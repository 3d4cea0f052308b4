"""Entry point for ``python -m reader``."""

import sys

from reader.cli import main

sys.exit(main())
