"""Aftaleoversigten (the national appointment overview): APD-DK 2.0.1 CDA documents in the
national document sharing service, read through IHE MHD (FHIR R4 DocumentReference search and
document retrieve). See docs/sources/appointments.md."""
