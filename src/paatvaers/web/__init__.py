"""The web interface: a FastAPI application built per process by `create_app`."""

from paatvaers.web.app import create_app

__all__ = ["create_app"]
