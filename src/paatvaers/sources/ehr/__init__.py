"""A simulated EHR (an EPJ or a GP system) that opens På Tværs by SMART App Launch 2.x.

It is not a national source: nothing is ingested from it, so it is not a `SourceName`. Tests
and the demo run it with `RunningEhr` on a loopback port of its own.
"""
