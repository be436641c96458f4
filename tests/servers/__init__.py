"""Real servers for the tests, bound to 127.0.0.1 on ephemeral ports."""
