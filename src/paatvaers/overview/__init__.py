"""The two overviews of a child: what health staff see (R4) and what municipal staff see (R3).

Each block of an overview is one data flow, read through `access.reading.ChildAccess` (decided
by policy and logged), with the source it came from and how fresh that source is."""
