"""MedCom FHIR messaging: CareCommunication and Acknowledgement, and their validation."""
