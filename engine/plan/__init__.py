"""The plan: a collection and a scenario resolved into a ``RunPlan`` that workers can run."""
