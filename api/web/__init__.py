"""The web interface: the citizen search page (``/``) and the call-centre console (``/agent``)."""

from api.web.pages import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
