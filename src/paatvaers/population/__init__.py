"""A synthetic national population, deterministic by seed. No real person is in it."""
