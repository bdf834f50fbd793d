"""MCP tool definitions in JavaScript / TypeScript, read with ``scanners.repos.jslex``:

* ``server.tool("name", "description", { zod shape }, handler)`` (every overload of the SDK);
* ``server.registerTool("name", { title, description, inputSchema }, handler)``;
* object literals with ``name``, ``description`` and ``inputSchema`` / ``input_schema`` /
  ``parameters`` — the ``tools: [ … ]`` arrays that ``ListToolsRequestSchema`` handlers return.

Parameters come from zod shapes (``z.string().describe("…")``) or JSON-Schema ``properties``.
"""

from __future__ import annotations

from scanners.repos.jslex import (
    Tokens,
    object_properties,
    split_top_level,
    string_constants,
    string_value,
    tokenize,
)
from scanners.repos.tools import MAX_PARAMS, Handler, McpTool, ToolParam, clip

_SCHEMA_KEYS = {"inputSchema", "input_schema", "parameters"}


def _first_object(tokens: Tokens, start: int, end: int) -> int | None:
    """The first ``{`` of a value range: the literal itself or the argument of z.object(…)."""
    for index in range(start, min(end, start + 12)):
        token = tokens.items[index]
        if token.kind == "punct" and token.value == "{" and index in tokens.partner:
            return index
    return None


def _describe(tokens: Tokens, start: int, end: int, constants: dict[str, str]) -> tuple[str | None, str | None]:
    """(description, zod type) of one zod value: the first .describe("…") and z.<type>."""
    items = tokens.items
    description = type_ = None
    for index in range(start, end):
        token = items[index]
        if token.kind != "id":
            continue
        if type_ is None and token.value == "z" and index + 2 < end and items[index + 1].value == ".":
            type_ = items[index + 2].value
        if token.value == "describe" and index + 1 < end and items[index + 1].value == "(":
            args = split_top_level(tokens, index + 1)
            if args:
                description = string_value(tokens, *args[0], constants)[0]
                break
    return description, type_


def _params(tokens: Tokens, start: int, end: int, constants: dict[str, str]) -> list[ToolParam]:
    opener = _first_object(tokens, start, end)
    if opener is None:
        return []
    props = object_properties(tokens, opener)
    if "properties" in props:  # JSON Schema
        inner = _first_object(tokens, *props["properties"])
        if inner is None:
            return []
        params: list[ToolParam] = []
        for name, (value_start, value_end) in list(object_properties(tokens, inner).items())[:MAX_PARAMS]:
            fields_at = _first_object(tokens, value_start, value_end)
            fields = object_properties(tokens, fields_at) if fields_at is not None else {}
            description = string_value(tokens, *fields["description"], constants)[0] if "description" in fields else None
            type_ = string_value(tokens, *fields["type"], constants)[0] if "type" in fields else None
            params.append(ToolParam(name=name, type=type_, description=description))
        return params
    shape: list[ToolParam] = []
    for name, (value_start, value_end) in list(props.items())[:MAX_PARAMS]:
        description, type_ = _describe(tokens, value_start, value_end, constants)
        shape.append(ToolParam(name=name, type=type_, description=description))
    return shape


def _is_function(tokens: Tokens, start: int, end: int) -> bool:
    values = [token.value for token in tokens.items[start : min(end, start + 40)]]
    return bool(values) and (values[0] in {"async", "function"} or "=>" in values)


def _handler(path: str, tokens: Tokens, segment: tuple[int, int] | None, tool: McpTool | None) -> Handler | None:
    if segment is None or not _is_function(tokens, *segment):
        return None
    begin = tokens.items[segment[0]].start
    finish = tokens.items[segment[1] - 1].end
    return Handler(path, "javascript", tool, text=tokens.source[begin:finish], offset=begin,
                   params={p.name for p in tool.params} if tool else set())


def _call_tool(path: str, tokens: Tokens, index: int, constants: dict[str, str]) -> tuple[McpTool, Handler | None] | None:
    items = tokens.items
    args = split_top_level(tokens, index + 1)
    if not args:
        return None
    name, dynamic_name = string_value(tokens, *args[0], constants)
    if not name:
        return None
    description = ""
    static = not dynamic_name
    params: list[ToolParam] = []
    handler_segment = args[-1] if len(args) > 1 and _is_function(tokens, *args[-1]) else None
    middle = args[1:-1] if handler_segment else args[1:]
    if items[index].value == "registerTool":
        config = middle[0] if middle else None
        opener = _first_object(tokens, *config) if config else None
        props = object_properties(tokens, opener) if opener is not None else {}
        if "description" in props:
            text, dynamic = string_value(tokens, *props["description"], constants)
            description, static = text or "", static and not dynamic
        schema = next((props[key] for key in _SCHEMA_KEYS if key in props), None)
        params = _params(tokens, *schema, constants) if schema else []
    else:
        for segment in middle:
            first = items[segment[0]]
            text, dynamic = string_value(tokens, *segment, constants)
            if text is not None and not description and not params:
                description, static = text, static and not dynamic
            elif not params and (first.value == "{" or first.value == "z"):
                params = _params(tokens, *segment, constants)
                break
    tool = McpTool(name=name, description=clip(description), params=params, path=path,
                   line=tokens.line_of(items[index].start), language="javascript",
                   form="registerTool" if items[index].value == "registerTool" else "server.tool", static=static)
    return tool, _handler(path, tokens, handler_segment, tool)


def extract_js(path: str, source: str, gaps: list[str]) -> tuple[list[McpTool], list[Handler]]:
    tokens = tokenize(source)
    if tokens.truncated:
        gaps.append(f"{path}: only the first part of the source was read")
    constants = string_constants(tokens)
    items = tokens.items
    tools: list[McpTool] = []
    handlers: list[Handler] = []
    braces: list[int] = []
    for index, token in enumerate(items):
        if token.kind == "punct":
            if token.value == "{" and index in tokens.partner:
                braces.append(index)
            elif token.value == "}":
                while braces and tokens.partner.get(braces[-1]) is not None and tokens.partner[braces[-1]] <= index:
                    braces.pop()
            continue
        if (
            token.kind == "id" and token.value in {"tool", "registerTool"} and index > 0 and items[index - 1].value == "."
            and index + 1 < len(items) and items[index + 1].value == "("
        ):
            found = _call_tool(path, tokens, index, constants)
            if found:
                tools.append(found[0])
                if found[1]:
                    handlers.append(found[1])
            continue
        if token.value in _SCHEMA_KEYS and index + 1 < len(items) and items[index + 1].value == ":" and braces:
            props = object_properties(tokens, braces[-1])
            if "name" not in props or "description" not in props:
                continue
            name, dynamic_name = string_value(tokens, *props["name"], constants)
            if not name:
                continue
            description, dynamic = string_value(tokens, *props["description"], constants)
            tools.append(McpTool(
                name=name, description=clip(description), params=_params(tokens, *props[token.value], constants), path=path,
                line=tokens.line_of(items[braces[-1]].start), language="javascript", form="tool literal",
                static=not (dynamic_name or dynamic),
            ))
    return tools, handlers


__all__ = ["extract_js"]
