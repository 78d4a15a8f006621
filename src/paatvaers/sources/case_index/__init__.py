"""The joint municipal case index (KOMBIT SF1470 Sags- og Dokumentindeks, SagDokumentIndeksService
v6 over SOAP): `adapter.CaseIndexAdapter` reads it, `simulator.create_app` serves it from the
simulated world. See docs/sources/case_index.md."""
