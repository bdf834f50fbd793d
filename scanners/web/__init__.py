"""Pure analysis of a fetched web page or domain home page, and of a raw e-mail, for agents that
want to know whether to read the page or act on the message. The app layer fetches; nothing here
touches the network, the clock or the filesystem (the brand list is package data)."""

from scanners.web.email import EmailIdentity, analyze_email
from scanners.web.page import analyze_domain, analyze_page
from scanners.web.rules import RULES
from scanners.web.snapshot import EmailSnapshot, PageSnapshot

__all__ = ["RULES", "EmailIdentity", "EmailSnapshot", "PageSnapshot", "analyze_domain", "analyze_email", "analyze_page"]
