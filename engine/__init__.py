"""deli-tui's load engine: collections, run plans, transports, metrics and processes.

Nothing in this package imports Textual; the UI depends on the engine, never the reverse.
"""

__version__ = "0.1.0"
