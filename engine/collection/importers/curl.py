"""A ``curl ...`` command line as a request file added to a collection.

What curl would send is carried over: method, URL, headers, bodies (``-d``, ``--json``,
``--data-urlencode``), ``-u``, ``-b``, ``-A``, ``-e``, ``-r``, ``-m``, ``-k``, ``-G``, ``-I``,
``--oauth2-bearer`` and ``--compressed``. Every other option is named in a warning with what
it would have changed; options that only change what curl prints are named together.
"""

from __future__ import annotations

import base64
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from engine.collection.importers.bodies import FORM_TYPE, is_json_type, json_body
from engine.collection.importers.writing import (
    ImportResult,
    env_line,
    hide_header,
    slug,
    unique,
    variable_name,
)
from engine.collection.model import HTTP_METHODS, Collection, RequestDef
from engine.collection.saver import atomic_write, save_request
from engine.collection.variables import read_env_file
from engine.durations import parse_duration
from engine.errors import CollectionError

# What --compressed asks for: encodings the standard library decodes, so a response can be
# shown decoded where it is shown (single sends); a load run measures the bytes as sent.
COMPRESSED = "gzip, deflate"

_CARRIED_WITH_VALUE = {
    "-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--data-binary",
    "--data-ascii", "--data-urlencode", "--json", "-u", "--user", "--url", "-A", "--user-agent",
    "-b", "--cookie", "-e", "--referer", "-m", "--max-time", "-r", "--range", "--oauth2-bearer",
}  # fmt: skip
_OUTPUT_WITH_VALUE = {
    "-o", "--output", "-w", "--write-out", "-D", "--dump-header", "-c", "--cookie-jar",
    "--trace", "--trace-ascii", "--stderr", "--output-dir", "--etag-save", "--libcurl",
}  # fmt: skip
_OTHER_WITH_VALUE = {
    "-x", "--proxy", "-U", "--proxy-user", "-F", "--form", "--form-string", "--connect-timeout",
    "--retry", "--retry-delay", "--retry-max-time", "--max-redirs", "--cacert", "--capath",
    "-E", "--cert", "--key", "--cert-type", "--key-type", "--pass", "--resolve",
    "--connect-to", "--limit-rate", "-T", "--upload-file", "-K", "--config", "--interface",
    "--local-port", "-Y", "--speed-limit", "-y", "--speed-time", "-z", "--time-cond",
    "--proto", "--proto-redir", "--ciphers", "--tls-max", "--noproxy", "--unix-socket",
    "--abstract-unix-socket", "--dns-servers", "--request-target", "--aws-sigv4", "--netrc-file",
    "--variable", "--expect100-timeout", "--keepalive-time", "--happy-eyeballs-timeout-ms",
    "--preproxy", "--socks5", "--socks5-hostname", "--haproxy-clientip", "--hsts",
    "--alt-svc", "--etag-compare", "-Q", "--quote", "--mail-from", "--mail-rcpt", "--ftp-port",
}  # fmt: skip
_OUTPUT_FLAGS = {
    "-s", "--silent", "-S", "--show-error", "-v", "--verbose", "-i", "--include", "-N",
    "--no-buffer", "-#", "--progress-bar", "--no-progress-meter", "-O", "--remote-name",
    "-J", "--remote-header-name", "--create-dirs", "-q", "--disable", "--styled-output",
}  # fmt: skip
_CARRIED_FLAGS = {"-k", "--insecure", "-G", "--get", "-I", "--head", "--compressed", "--http1.1"}
_WHY = {
    "-L": "redirects are not followed: the 3xx response is what is measured",
    "--location": "redirects are not followed: the 3xx response is what is measured",
    "-f": "4xx/5xx already count as errors; add checks: {status: 200} for an exact status",
    "--fail": "4xx/5xx already count as errors; add checks: {status: 200} for an exact status",
    "--fail-with-body": "4xx/5xx already count as errors",
    "--http2": "HTTP/2 is a scenario setting: http2: true (or run --http2)",
    "--http2-prior-knowledge": "HTTP/2 is a scenario setting: http2: true (or run --http2)",
    "-x": "requests are sent directly, not through a proxy",
    "--proxy": "requests are sent directly, not through a proxy",
    "-F": "multipart form bodies (file uploads) are not imported",
    "--form": "multipart form bodies (file uploads) are not imported",
    "--connect-timeout": "the request timeout (timeout:) covers connecting too",
    "--digest": "digest authentication is not supported",
    "--ntlm": "NTLM authentication is not supported",
    "--negotiate": "Negotiate authentication is not supported",
    "-E": "client certificates are not supported",
    "--cert": "client certificates are not supported",
}


def _split(command: str) -> list[str]:
    try:
        args = shlex.split(command.replace("\\\r\n", " ").replace("\\\n", " "))
    except ValueError as exc:
        raise CollectionError.single(
            None, None, f"cannot read the curl command: {exc}", "paste the whole command"
        ) from None
    return args[1:] if args and Path(args[0]).name == "curl" else args


def _options(args: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) pairs in order; a URL is ("", url). Short flags may be clustered."""
    with_value = _CARRIED_WITH_VALUE | _OUTPUT_WITH_VALUE | _OTHER_WITH_VALUE
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg.startswith("--"):
            name, eq, inline = arg.partition("=")
            if name in with_value:
                if not eq:
                    if i >= len(args):
                        raise CollectionError.single(None, None, f"curl option {arg} needs a value")
                    inline, i = args[i], i + 1
                out.append((name, inline))
            else:
                out.append((arg, None))
        elif arg.startswith("-") and len(arg) > 1:
            for pos in range(1, len(arg)):
                flag = "-" + arg[pos]
                if flag in with_value:
                    value = arg[pos + 1 :]
                    if not value:
                        if i >= len(args):
                            raise CollectionError.single(
                                None, None, f"curl option {flag} needs a value"
                            )
                        value, i = args[i], i + 1
                    out.append((flag, value))
                    break
                out.append((flag, None))
        else:
            out.append(("", arg))
    return out


def parse_curl(command: str, relpath: Path | str = "curl.yaml") -> tuple[RequestDef, list[str]]:
    """The request a ``curl ...`` command line sends, and a warning for each option left out."""
    warnings: list[str] = []
    output_only: list[str] = []
    method: str | None = None
    url = ""
    headers: dict[str, str] = {}
    data: list[str] = []
    get = insecure = head = False
    timeout: float | None = None
    for option, value in _options(_split(command)):
        v = value or ""
        if option == "":
            url = v
        elif option in ("-X", "--request"):
            method = v.upper()
        elif option in ("-H", "--header"):
            if v.startswith("@"):
                warnings.append(f"{option} {v}: headers read from files are not imported")
            else:
                name, _, header_value = v.partition(":")
                headers[name.strip()] = header_value.strip()
        elif option in ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii"):
            if v.startswith("@") and option != "--data-raw":
                warnings.append(f"{option} {v}: bodies read from files are not imported")
            else:
                data.append(v)
        elif option == "--data-urlencode":
            key, eq, text = v.partition("=")
            data.append(urlencode({key: text}) if eq else urlencode({"": key})[1:])
        elif option == "--json":
            data.append(v)
            headers.setdefault("Content-Type", "application/json")
            headers.setdefault("Accept", "application/json")
        elif option in ("-u", "--user"):
            if ":" not in v:
                warnings.append(f"{option} {v}: curl would ask for the password; add it as user:pw")
            headers["Authorization"] = "Basic " + base64.b64encode(v.encode()).decode()
        elif option == "--oauth2-bearer":
            headers["Authorization"] = f"Bearer {v}"
        elif option in ("-A", "--user-agent"):
            headers["User-Agent"] = v
        elif option in ("-b", "--cookie"):
            if "=" in v:
                headers["Cookie"] = v
            else:
                warnings.append(f"{option} {v}: cookies read from a file are not imported")
        elif option in ("-e", "--referer"):
            headers["Referer"] = v
        elif option in ("-r", "--range"):
            headers["Range"] = f"bytes={v}"
        elif option in ("-m", "--max-time"):
            timeout = parse_duration(v)
        elif option in ("-k", "--insecure"):
            insecure = True
        elif option in ("-G", "--get"):
            get = True
        elif option in ("-I", "--head"):
            head = True
        elif option == "--compressed":
            headers.setdefault("Accept-Encoding", COMPRESSED)
        elif option in _CARRIED_FLAGS:
            pass
        elif option in _OUTPUT_FLAGS or option in _OUTPUT_WITH_VALUE:
            output_only.append(option if value is None else f"{option} {value}")
        else:
            shown = option if value is None else f"{option} {value}"
            warnings.append(
                f"curl option {shown} is not imported: {_WHY.get(option, 'no equivalent')}"
            )
    if output_only:
        warnings.append("only change what curl prints, so not imported: " + " ".join(output_only))
    if not url:
        raise CollectionError.single(
            None, None, "the curl command has no URL", "e.g. curl http://127.0.0.1:8089/"
        )
    if "://" not in url:
        url = "http://" + url
    body: Any = None
    if data and get:
        url += ("&" if "?" in url else "?") + "&".join(data)
    elif data:
        text = "&".join(data)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        is_json = is_json_type(content_type) or text.lstrip().startswith(("{", "["))
        body = json_body(text) if is_json else text
        if isinstance(body, str) and not content_type:
            headers["Content-Type"] = FORM_TYPE
    if method is None:
        method = "HEAD" if head else "POST" if body is not None else "GET"
    if method not in HTTP_METHODS:
        raise CollectionError.single(
            None,
            None,
            f"curl -X {method} is not supported",
            "use one of " + ", ".join(HTTP_METHODS),
        )
    if isinstance(body, dict | list):
        for name in [h for h in headers if h.lower() == "content-type"]:
            if headers[name].lower().startswith("application/json"):
                del headers[name]  # planning adds it back for mapping bodies
    name = f"{method} {url.split('://', 1)[1].split('?', 1)[0]}"[:80]
    req = RequestDef(
        relpath=Path(relpath),
        name=name,
        method=method,
        url=url,
        headers=headers,
        body=body,
        timeout_s=timeout,
        insecure=insecure,
    )
    return req, warnings


def import_curl(
    collection: Collection, command: str, relpath: Path | str | None = None, name: str | None = None
) -> ImportResult:
    """Add the request of a curl command to ``collection`` as a new file (an existing file is
    never replaced). Secret header values (Authorization, Cookie, API keys) go to the
    collection's env file when it names one."""
    req, warnings = parse_curl(command)
    result = ImportResult(collection, warnings=warnings)
    names = {r.name for r in collection.requests}
    req.name = unique(name or req.name, names)
    req.relpath = Path(relpath) if relpath else Path(slug(req.name) + ".yaml")
    stem, n = req.relpath.stem, 2
    while (collection.root / req.relpath).exists():
        req.relpath, n = req.relpath.with_name(f"{stem}_{n}{req.relpath.suffix}"), n + 1
    _secrets_to_env_file(collection, req, result)
    save_request(collection, req)
    result.made.append(f"{req.relpath.as_posix()}  {req.method} {req.url}")
    return result


def _secrets_to_env_file(collection: Collection, req: RequestDef, result: ImportResult) -> None:
    secret = [h for h, v in req.headers.items() if hide_header(h, v, lambda _, t: "") != v]
    if not secret:
        return
    if not collection.env_file:
        result.warnings.append(
            f"{', '.join(secret)} written into {req.relpath.as_posix()} as given: the collection"
            " has no env_file to keep secrets in (add env_file: .env to collection.yaml)"
        )
        return
    path = collection.root / collection.env_file
    existing = read_env_file(path) if path.is_file() else {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    taken = set(existing) | set(collection.variables)

    def keep(hint: str, value: str) -> str:
        var = next((k for k, v in existing.items() if v == value), None)
        if var is None:
            var = unique(variable_name(hint), taken, "{}_{}")
            lines.append(env_line(var, value))
            existing[var] = value
            result.secrets.append(var)
        return "{{" + var + "}}"

    for header in secret:
        req.headers[header] = hide_header(header, req.headers[header], keep)
    atomic_write(path, "\n".join(lines) + "\n")
    path.chmod(0o600)
    result.env_path = path
