"""What the app layer hands the web analysers: a fetched page (or a domain's home page) and a raw
e-mail. The fetcher fills these; nothing here reads the network or the clock."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator


class PageSnapshot(BaseModel):
    url: str  # final URL, after redirects
    requested_url: str
    redirect_chain: list[str] = Field(default_factory=list)  # every URL visited, in order
    status: int = 200
    content_type: str = ""  # the Content-Type header value, parameters included
    headers: dict[str, str] = Field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    body_truncated: bool = False  # the fetcher stopped reading at its size limit
    tls: bool = True
    fetched_at: datetime

    @field_validator("headers")
    @classmethod
    def _lower_case_names(cls, value: dict[str, str]) -> dict[str, str]:
        return {name.lower(): header for name, header in value.items()}


class EmailSnapshot(BaseModel):
    raw: bytes  # the RFC 822 message as received, headers and body
    received_at: datetime
