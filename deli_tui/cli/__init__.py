"""The ``deli-tui`` command line: the TUI by default, and its subcommands."""
