"""The MCP tool inventory: what a server tells the model about each tool. This is the evidence a
user (or an agent) needs to judge a server, and the lead can expose it as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

# Bounds on what one server can put into the inventory.
MAX_TOOLS = 500
MAX_DESCRIPTION_CHARS = 64_000
MAX_PARAMS = 100


class ToolParam(BaseModel):
    name: str
    type: str | None = None
    description: str | None = None


class McpTool(BaseModel):
    name: str
    description: str = ""
    params: list[ToolParam] = Field(default_factory=list)
    path: str
    line: int
    language: str  # "python" | "javascript"
    form: str  # "decorator", "Tool()", "server.tool", "registerTool", "tool literal"
    # False when the description or name is built at run time and was read approximately.
    static: bool = True


class ToolInventory(BaseModel):
    tools: list[McpTool] = Field(default_factory=list)
    truncated: bool = False
    files_scanned: int = 0


@dataclass(slots=True)
class Handler:
    """Where a tool's code is: a Python AST node or a JS source span (for capability checks)."""

    path: str
    language: str
    tool: McpTool | None  # None: a dispatcher or a whole server file
    node: Any = None  # ast.AST for Python
    text: str = ""  # source text for JavaScript
    offset: int = 0  # where ``text`` starts in the file
    params: set[str] = field(default_factory=set)


def clip(text: str | None, limit: int = MAX_DESCRIPTION_CHARS) -> str:
    return (text or "")[:limit]


__all__ = ["MAX_DESCRIPTION_CHARS", "MAX_PARAMS", "MAX_TOOLS", "Handler", "McpTool", "ToolInventory", "ToolParam", "clip"]
