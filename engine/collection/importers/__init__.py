"""Bring requests in from elsewhere as collection files: Postman, curl, HAR, OpenAPI, Posting.

Each importer writes a new collection through ``writing.CollectionWriter`` (curl adds one
file to a collection), so what it writes always loads, secrets land in the env file, and the
returned ``ImportResult`` lists what was made and every part that was not carried over.
"""

from __future__ import annotations

from engine.collection.importers.curl import import_curl, parse_curl
from engine.collection.importers.har import import_har
from engine.collection.importers.postman import import_postman
from engine.collection.importers.writing import ImportResult, slug

__all__ = ["ImportResult", "import_curl", "import_har", "import_postman", "parse_curl", "slug"]
