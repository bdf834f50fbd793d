"""Repositories, MCP servers and agent skills, analysed from one GitHub tarball (pure)."""

from scanners.repos.atrest import AT_REST
from scanners.repos.mcp import analyze_mcp_server, analyze_mcp_server_with_tools, extract_mcp_tools
from scanners.repos.repo import analyze_repo
from scanners.repos.rules import RULES
from scanners.repos.skill import analyze_skill
from scanners.repos.snapshot import RepoMetadata, RepoSnapshot, snapshot_from_tarball
from scanners.repos.tarball import ArchiveNotes, RepoFiles, read_tarball
from scanners.repos.tools import McpTool, ToolInventory, ToolParam

__all__ = [
    "AT_REST",
    "RULES",
    "ArchiveNotes",
    "McpTool",
    "RepoFiles",
    "RepoMetadata",
    "RepoSnapshot",
    "ToolInventory",
    "ToolParam",
    "analyze_mcp_server",
    "analyze_mcp_server_with_tools",
    "analyze_repo",
    "analyze_skill",
    "extract_mcp_tools",
    "read_tarball",
    "snapshot_from_tarball",
]
