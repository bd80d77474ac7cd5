"""Start and stop the lab's real servers (Redis, PostgreSQL, nginx, app servers) on 127.0.0.1.

Every process is started in its own process group and stopped by that group id, so the
build never touches processes it did not start. Data directories live in one temp dir.
Ports are the lab's range for this folder: 18200-18299.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REDIS_PORT = 18279
PG_PORT = 18232
NGINX_PORT = 18280

_started: list[subprocess.Popen] = []


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts on 127.0.0.1:port (servers log 'ready' at different times)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def start(cmd: list[str], log: Path, *, cwd: Path | None = None, env: dict | None = None,
          preexec=None) -> subprocess.Popen:
    """Start cmd with stdout and stderr both in `log` (as a container runtime would keep them)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
            env={**os.environ, **(env or {})}, start_new_session=True, preexec_fn=preexec,
        )
    _started.append(proc)
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
    """Stop one started process group gracefully, then by SIGKILL if it does not exit."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    if proc in _started:
        _started.remove(proc)
    return proc.returncode


def stop_all() -> None:
    for proc in list(reversed(_started)):
        stop(proc)


# --- Redis ---------------------------------------------------------------------------

def start_redis(tmp: Path) -> subprocess.Popen:
    d = tmp / "redis"
    d.mkdir(parents=True, exist_ok=True)
    proc = start(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(d), "--logfile", str(d / "redis.log")],
        d / "stdout.log",
    )
    wait_port(REDIS_PORT)
    return proc


def redis_cmd(*args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(REDIS_PORT), *args], capture_output=True, text=True, timeout=10
    ).stdout.strip()


# --- PostgreSQL ------------------------------------------------------------------------

def start_postgres(tmp: Path, log: Path) -> subprocess.Popen:
    """initdb into a fresh dir as the postgres user (initdb refuses root), server log to `log`."""
    d = tmp / "pgdata"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    shutil.chown(d, "postgres", "postgres")
    os.chmod(tmp, 0o755)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "initdb", "-D", str(d), "-A", "trust", "-U", "postgres",
         "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )
    log.touch()
    shutil.chown(log, "postgres", "postgres")
    proc = start(
        ["runuser", "-u", "postgres", "--", "postgres", "-D", str(d), "-p", str(PG_PORT),
         "-k", str(d), "-c", "listen_addresses=127.0.0.1",
         # Debian's packaged default prefix, so the log reads like a stock server's
         "-c", "log_line_prefix=%m [%p] %q%u@%d ", "-c", "fsync=off"],
        log,
    )
    wait_port(PG_PORT)
    for _ in range(50):
        r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
                            "-c", "select 1"], capture_output=True, timeout=10)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    return proc


def psql(sql: str, db: str = "postgres") -> str:
    r = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", db, "-tAc", sql],
        capture_output=True, text=True, timeout=30,
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return r.stdout.strip()


# --- nginx -----------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {error_log} warn;
events {{ worker_connections 256; }}
http {{
    log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                     '$request_time $upstream_response_time';
    access_log {access_log} timed;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream app {{ server 127.0.0.1:{upstream}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout {read_timeout};
        }}
    }}
}}
"""


def start_nginx(tmp: Path, upstream: int, access_log: Path, error_log: Path,
                read_timeout: str = "60s") -> subprocess.Popen:
    prefix = tmp / "nginx"
    if prefix.exists():
        shutil.rmtree(prefix)
    prefix.mkdir(parents=True)
    os.chmod(prefix, 0o777)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, error_log=error_log, access_log=access_log,
                                      upstream=upstream, port=NGINX_PORT,
                                      read_timeout=read_timeout))
    proc = start(["nginx", "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                 prefix / "stdout.log")
    wait_port(NGINX_PORT)
    return proc


def stop_nginx(proc: subprocess.Popen) -> None:
    stop(proc, signal.SIGQUIT)


# --- a cgroup v1/v2 memory limit for the OOM scenario ------------------------------------

def memory_cgroup(name: str, limit_bytes: int) -> Path:
    """A child memory cgroup of ours with a hard limit; the kernel OOM-kills inside it."""
    base = None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if "memory" in ctrls.split(","):
            base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    if base is None:  # cgroup v2
        path = Path("/proc/self/cgroup").read_text().splitlines()[-1].split(":", 2)[2]
        base = Path("/sys/fs/cgroup") / path.lstrip("/")
    cg = base / name
    if cg.exists():
        cg.rmdir()
    cg.mkdir()
    if (cg / "memory.limit_in_bytes").exists():
        (cg / "memory.limit_in_bytes").write_text(str(limit_bytes))
        if (cg / "memory.memsw.limit_in_bytes").exists():
            (cg / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
    else:
        (cg / "memory.max").write_text(str(limit_bytes))
        (cg / "memory.swap.max").write_text("0")
    return cg


def oom_kills(cg: Path) -> int:
    for name in ("memory.oom_control", "memory.events"):
        f = cg / name
        if f.exists():
            for line in f.read_text().splitlines():
                k, _, v = line.partition(" ")
                if k == "oom_kill":
                    return int(v)
    return 0


def peak_mb(cg: Path) -> int | None:
    """Highest memory use the cgroup saw (v1 max_usage_in_bytes, v2 memory.peak)."""
    for name in ("memory.max_usage_in_bytes", "memory.peak"):
        f = cg / name
        if f.exists():
            return int(f.read_text().strip()) // (1024 * 1024)
    return None
