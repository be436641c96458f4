"""Running a plan: the pipe protocol, the engine processes (supervisor, workers), attach."""
