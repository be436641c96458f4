"""deli-tui: the Textual app on top of the ``engine`` package."""
