"""A simulated GP system: the MedCom side of a GP clinic's own software."""
