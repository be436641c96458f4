"""Collections on disk: a directory with ``collection.yaml`` and one YAML file per request."""
