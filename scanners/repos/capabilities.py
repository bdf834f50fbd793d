"""What MCP tool handlers can do: run shell commands, evaluate code, touch caller-chosen paths,
send the process environment out, read private keys.

Capabilities are facts, not verdicts: a ``run_command`` tool in a shell server exists to run
commands. ``mcp.py`` turns a capability into a threat only when the tool does not present itself
as doing that (or when the server also poisons its tools); otherwise it is a signal.

Python handlers are read with ``ast`` (calls, their keyword arguments, which names flow where);
JavaScript handlers with bounded regular expressions over the handler's source span.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from scanners.repos.instructions import SECRET_PATH
from scanners.repos.tools import Handler

MAX_JS_HANDLER_CHARS = 256 * 1024

# What a tool's own name or description must mention for a capability to be its purpose.
DECLARES = {
    "shell": re.compile(r"\b(?:run|exec|execute|command|commands|shell|terminal|bash|cmd|script|process|sh|powershell|cli)\b|_(?:command|exec|shell|run)|(?:run|exec|shell)_", re.IGNORECASE),
    "eval": re.compile(r"\b(?:eval|evaluate|execute|run|python|javascript|code|repl|interpreter|notebook|sandbox)\b|_(?:code|eval|exec)|(?:run|exec|eval)_", re.IGNORECASE),
    "file": re.compile(r"\b(?:files?|path|paths|directory|directories|folder|filesystem|fs|write|read|save|edit|delete|move|copy)\b|_(?:file|files|dir|path)|(?:file|read|write|edit|dir)_", re.IGNORECASE),
}


@dataclass(frozen=True, slots=True)
class Capability:
    kind: str  # shell | process | eval | file | env_egress | secret_read | network
    line: int
    evidence: str
    strong: bool = False  # secret_read: data is also sent out; file: writes


def _call_name(node: ast.Call) -> str:
    try:
        return ast.unparse(node.func)[:80]
    except Exception:  # ast.unparse on odd trees
        return ""


_PY_SHELL = {"os.system", "os.popen", "asyncio.create_subprocess_shell", "commands.getoutput", "pty.spawn", "subprocess.getoutput",
             "subprocess.getstatusoutput"}
_PY_SUBPROCESS = re.compile(r"^(?:subprocess\.)?(?:run|call|check_call|check_output|Popen)$|^asyncio\.create_subprocess_exec$|^os\.(?:exec|spawn)\w*$")
_PY_EVAL = {"eval", "exec", "compile", "builtins.eval", "builtins.exec"}
_PY_NETWORK = re.compile(
    r"^(?:requests|httpx|session|client|self\.session|self\.client|aiohttp\.ClientSession\(\))\.(?:post|put|patch|get|request|send)$"
    r"|(?:^|\.)urlopen$|^urllib\.request\.Request$|\.(?:sendall|send|connect)$|^smtplib\.SMTP|^socket\.create_connection$"
)
_PY_ROOT_CHECK = re.compile(r"\b(?:resolve|realpath|abspath|is_relative_to|commonpath|relative_to|normpath)\b")
_FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "rmtree", "remove", "rename", "replace"}
_WRITE_METHODS = {"write_text", "write_bytes", "unlink", "rmdir", "rmtree", "remove", "rename", "replace"}


def _names_in(node: ast.AST) -> set[str]:
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def _whole_environ(node: ast.AST) -> bool:
    """``os.environ`` used as a whole (not ``os.environ["X"]`` / ``.get``)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _call_name(sub) in {"os.environ.copy", "os.environ.items", "dict"} and (
            _call_name(sub) != "dict" or any(ast.unparse(arg) == "os.environ" for arg in sub.args)
        ):
            return True
        if isinstance(sub, ast.Dict) and any(key is None and ast.unparse(value) == "os.environ" for key, value in zip(sub.keys, sub.values, strict=True)):
            return True
        if isinstance(sub, ast.Call) and any(ast.unparse(arg) == "os.environ" for arg in sub.args) and _call_name(sub).endswith(("dumps", "post", "put", "send", "sendall")):
            return True
    return False


def python_capabilities(handler: Handler) -> list[Capability]:
    node = handler.node
    if node is None:
        return []
    found: list[Capability] = []
    params = handler.params
    source_names = set(params)
    tainted: set[str] = set()
    rooted = False
    network_calls: list[ast.Call] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign) and _whole_environ(sub.value):
            tainted.update(target.id for target in sub.targets if isinstance(target, ast.Name))
        if isinstance(sub, ast.Attribute) and _PY_ROOT_CHECK.search(sub.attr):
            rooted = True
    # Bare string statements are docstrings: what they say is judged as a tool description.
    docstrings = {id(sub.value) for sub in ast.walk(node) if isinstance(sub, ast.Expr) and isinstance(sub.value, ast.Constant)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and id(sub) not in docstrings and SECRET_PATH.search(sub.value):
            found.append(Capability("secret_read", getattr(sub, "lineno", 0), sub.value[:120]))
        if not isinstance(sub, ast.Call):
            continue
        name = _call_name(sub)
        line = getattr(sub, "lineno", 0)
        evidence = ast.unparse(sub)[:160] if len(name) < 80 else name
        shell_kw = any(kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value is True for kw in sub.keywords)
        if name in _PY_SHELL or (_PY_SUBPROCESS.search(name) and shell_kw):
            found.append(Capability("shell", line, evidence))
        elif _PY_SUBPROCESS.search(name):
            found.append(Capability("process", line, evidence))
        elif name in _PY_EVAL and sub.args and not isinstance(sub.args[0], ast.Constant):
            found.append(Capability("eval", line, evidence))
        if _PY_NETWORK.search(name):
            network_calls.append(sub)
            found.append(Capability("network", line, evidence))
        # File access whose path comes from the caller (a tool parameter).
        method = name.rsplit(".", 1)[-1]
        if name in {"open", "io.open", "aiofiles.open"} and sub.args and _names_in(sub.args[0]) & source_names:
            mode = sub.args[1] if len(sub.args) > 1 else next((kw.value for kw in sub.keywords if kw.arg == "mode"), None)
            writes = isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")
            found.append(Capability("file", line, evidence, strong=writes))
        elif method in _FILE_METHODS and isinstance(sub.func, ast.Attribute) and _names_in(sub.func.value) & source_names:
            found.append(Capability("file", line, evidence, strong=method in _WRITE_METHODS))
        elif name in {"shutil.rmtree", "os.remove", "os.unlink", "shutil.move"} and sub.args and _names_in(sub.args[0]) & source_names:
            found.append(Capability("file", line, evidence, strong=True))
    for call in network_calls:
        arguments = [*call.args, *(kw.value for kw in call.keywords)]
        if any(_whole_environ(arg) or _names_in(arg) & tainted for arg in arguments):
            found.append(Capability("env_egress", getattr(call, "lineno", 0), ast.unparse(call)[:160]))
    if rooted:
        found = [cap for cap in found if cap.kind != "file"]
    if network_calls:
        found = [Capability(cap.kind, cap.line, cap.evidence, True) if cap.kind == "secret_read" else cap for cap in found]
    return found


_JS_CHILD_PROCESS = re.compile(r"child_process|\bexeca\b|\bshelljs\b|\bzx\b|Bun\.spawn|Deno\.(?:run|Command)")
_JS_SHELL = re.compile(r"\b(?:exec|execSync)\s*\(|\bspawn(?:Sync)?\s*\([^)]{0,300}?\bshell\s*:\s*true|\bshell\.exec\s*\(|\$`")
_JS_PROCESS = re.compile(r"\b(?:spawn|spawnSync|execFile|execFileSync|fork|execa)\s*\(")
_JS_EVAL = re.compile(r"\beval\s*\(|\bnew\s+Function\s*\(|\bvm\.(?:runIn\w*|Script)\b")
_JS_FILE = re.compile(r"\bfs(?:\.promises)?\.(readFile|readFileSync|writeFile|writeFileSync|appendFile|appendFileSync|rm|rmSync|unlink|unlinkSync|rename)\s*\(\s*([^,)]{1,120})")
_JS_ROOT_CHECK = re.compile(r"\brealpath|\bpath\.relative\s*\(|\.startsWith\s*\(\s*(?:allowed|root|base|ROOT|BASE|ALLOWED)")
_JS_ENV_DUMP = re.compile(r"JSON\.stringify\(\s*process\.env\s*[,)]|Object\.(?:entries|keys|values)\(\s*process\.env\s*\)")
_JS_NETWORK = re.compile(r"\bfetch\s*\(|\baxios(?:\.\w+)?\s*\(|\bhttps?\.request\s*\(|\bnet\.connect\s*\(|\bnew\s+WebSocket\s*\(|\bgot(?:\.\w+)?\s*\(")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def js_capabilities(handler: Handler, file_text: str) -> list[Capability]:
    text = handler.text[:MAX_JS_HANDLER_CHARS]
    found: list[Capability] = []

    def line_at(offset: int) -> int:
        return file_text.count("\n", 0, handler.offset + offset) + 1

    def add(kind: str, match: re.Match[str], strong: bool = False) -> None:
        found.append(Capability(kind, line_at(match.start()), " ".join(text[match.start() : match.start() + 160].split()), strong))

    if _JS_CHILD_PROCESS.search(file_text):
        shell = _JS_SHELL.search(text)
        if shell:
            add("shell", shell)
        else:
            process = _JS_PROCESS.search(text)
            if process:
                add("process", process)
    code = _JS_EVAL.search(text)
    if code:
        add("eval", code)
    if not _JS_ROOT_CHECK.search(file_text):
        for match in _JS_FILE.finditer(text):
            if set(_WORD.findall(match.group(2))) & handler.params:
                add("file", match, strong=not match.group(1).startswith("read"))
                break
    network = _JS_NETWORK.search(text)
    dump = _JS_ENV_DUMP.search(text)
    if network:
        add("network", network)
        if dump:
            add("env_egress", dump)
    for literal in re.finditer(r"['\"`]([^'\"`\n]{1,200})['\"`]", text):
        if SECRET_PATH.search(literal.group(1)):
            add("secret_read", literal, strong=network is not None)
            break
    return found


__all__ = ["DECLARES", "Capability", "js_capabilities", "python_capabilities"]
