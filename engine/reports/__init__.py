"""Reports of a finished run: the summary table, JSON, JUnit XML, HTML and CSV."""
