"""The tier-3 transport: an OpenAI-compatible chat endpoint, configured by the operator.

``scanners.tier3`` builds the request and validates the answer; this module only moves it over
HTTP. Servers that reject ``response_format`` (several self-hosted ones do) are retried once
without it — the answer is schema-checked either way.
"""

from __future__ import annotations

from openai import BadRequestError, OpenAI

from scanners.tier3 import LLMRequest


class OpenAICompatibleReviewer:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        self._model = model
        # Local servers often need no key, but the client insists on one.
        self._client = OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=2)

    def __call__(self, request: LLMRequest) -> str:
        arguments = {
            "model": self._model,
            "messages": request.messages,
            "temperature": 0,
            "max_tokens": 4000,
        }
        try:
            response = self._client.chat.completions.create(response_format={"type": "json_object"}, **arguments)
        except BadRequestError:
            response = self._client.chat.completions.create(**arguments)
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""


def reviewer_from_settings(settings: object) -> OpenAICompatibleReviewer | None:
    from app.settings import Settings

    assert isinstance(settings, Settings)
    if not settings.llm_configured:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return OpenAICompatibleReviewer(str(settings.llm_base_url), settings.llm_model or "", key, settings.llm_timeout_seconds)
