"""Bring requests in from elsewhere as collection files: Postman, curl, HAR, OpenAPI, Posting.

One module per source (``postman``, ``curl``, ``har``, ``openapi``, ``posting``). Each writes
a new collection through ``writing.CollectionWriter`` (curl adds one file to a collection), so
what it writes always loads, secrets land in the env file, and the returned ``ImportResult``
lists what was made and every part that was not carried over.
"""
