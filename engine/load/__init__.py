"""Load: the shapes of load over time, the closed and open models that drive a client, checks."""
