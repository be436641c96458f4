import sys

from deli_tui.cli import main

sys.exit(main())
