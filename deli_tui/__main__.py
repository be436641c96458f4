import sys

from deli_tui.cli.main import main

sys.exit(main())
