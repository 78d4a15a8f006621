"""The national sources: one package per source, each with an adapter (client + strict parser
of the source's own format) and a simulator that serves the synthetic population in exactly
that format on loopback HTTP."""
