"""After the run: saved runs read back, listed, rebuilt as snapshots and compared."""
