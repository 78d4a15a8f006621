"""Correspondence between the professionals around a child: MedCom messages received,
threaded and acknowledged (inbox), and sent reliably (outbox and worker)."""
