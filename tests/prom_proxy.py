"""A real nginx in front of a real Prometheus: the auth and rate-limit proxies the probe
meets in front of shared servers (oauth2-proxy, an ingress with rate limits, a gateway
that only lets some API paths through).

nginx (Debian's package, installed by ``.ci/run``) runs on 127.0.0.1 with a config made
here, one ``server`` per behaviour:

* ``queries_only``: ``/api/v1/query`` and ``/api/v1/query_range`` pass, every other API
  path answers 403 (a gateway that allows queries but not metadata);
* ``forbidden``: every path answers 403 with a JSON error body;
* ``rate_limited``: at most 2 requests a second, the rest answered 429 with
  ``Retry-After: 1`` (``limit_req``);
* ``login``: every path redirects (302) to ``/oauth2/sign_in``, as oauth2-proxy does
  without a session;
* ``tls``: HTTPS with a certificate made here for 127.0.0.1 by openssl, signed by a CA of
  its own (``PromProxy.ca``): verified only with ``--prom-ca``.

Its access log is kept, so a test can see what the server really answered (the 429s a
retry got past). Without nginx the tests that need it skip, saying so.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MODES = ("queries_only", "forbidden", "rate_limited", "login", "tls")


@dataclass(frozen=True)
class PromProxy:
    urls: dict[str, str]
    """Mode -> the proxy's base URL for that behaviour."""
    access_log: Path
    pid: int
    ca: Path
    """The CA certificate that signed the ``tls`` server's certificate."""

    def statuses(self, settle_s: float = 2.0) -> list[tuple[str, int]]:
        """(path, status) of every request nginx answered so far, in order. nginx writes a
        request's line after its answer is sent, so a client can be done before the last
        line is: the log is read until its size holds for 0.2 s (at most ``settle_s``)."""
        deadline = time.monotonic() + settle_s
        size, still = -1, 0.0
        while time.monotonic() < deadline and still < 0.2:
            now = self.access_log.stat().st_size if self.access_log.exists() else 0
            still = still + 0.05 if now == size else 0.0
            size = now
            time.sleep(0.05)
        out: list[tuple[str, int]] = []
        if not self.access_log.exists():
            return out
        for line in self.access_log.read_text().splitlines():
            path, _, status = line.rpartition(" ")
            if status.isdigit():
                out.append((path, int(status)))
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_missing() -> str | None:
    if shutil.which("nginx") is None:
        return "nginx is not installed (.ci/run installs Debian's nginx package)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (it makes the TLS proxy's certificates)"
    return None


def _certificates(prefix: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it (openssl)."""
    ca_key, ca, key, csr, cert = (prefix / n for n in ("ca.key", "ca.pem", "server.key",
                                                       "server.csr", "server.pem"))
    ext = prefix / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca), "-days", "1", "-subj", "/CN=scaledoc test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
         str(csr), "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext)]):
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return ca, cert, key


def _config(prefix: Path, upstream: str, ports: dict[str, int], cert: Path, key: Path) -> str:
    log = prefix / "access.log"
    return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
  log_format paths '$uri $status';
  access_log {log} paths;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  limit_req_zone $server_port zone=api:1m rate=2r/s;
  server {{
    listen 127.0.0.1:{ports['queries_only']};
    location = /api/v1/query {{ proxy_pass {upstream}; }}
    location = /api/v1/query_range {{ proxy_pass {upstream}; }}
    location / {{
      default_type application/json;
      return 403 '{{"status":"error","errorType":"forbidden","error":"only queries are allowed"}}';
    }}
  }}
  server {{
    listen 127.0.0.1:{ports['forbidden']};
    location / {{
      default_type application/json;
      return 403 '{{"status":"error","errorType":"forbidden","error":"needs prometheus:read"}}';
    }}
  }}
  server {{
    listen 127.0.0.1:{ports['rate_limited']};
    location / {{
      limit_req zone=api nodelay;
      limit_req_status 429;
      add_header Retry-After 1 always;
      proxy_pass {upstream};
    }}
  }}
  server {{
    listen 127.0.0.1:{ports['login']};
    location / {{ return 302 /oauth2/sign_in?rd=$uri; }}
  }}
  server {{
    listen 127.0.0.1:{ports['tls']} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ proxy_pass {upstream}; }}
  }}
}}
"""


@contextlib.contextmanager
def prom_proxy(upstream: str, workdir: Path) -> Iterator[PromProxy]:
    """nginx proxying ``upstream`` (a Prometheus base URL) in each mode; stopped after."""
    prefix = workdir / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    ports = {m: _free_port() for m in MODES}
    conf = prefix / "nginx.conf"
    ca, cert, key = _certificates(prefix)
    conf.write_text(_config(prefix, upstream, ports, cert, key))
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", ports["login"]), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"nginx did not start: {err}") from None
                time.sleep(0.05)
        urls = {m: f"{'https' if m == 'tls' else 'http'}://127.0.0.1:{p}"
                for m, p in ports.items()}
        yield PromProxy(urls, prefix / "access.log", proc.pid, ca)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
