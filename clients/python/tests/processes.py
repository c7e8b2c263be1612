"""Real redis-server and server processes for the tests, on free ports, stopped by the
fixtures that start them. A server is ready when /readyz answers 200 (its store reachable)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import httpx

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVER_MAIN = REPO_ROOT / "packages" / "server" / "dist" / "main.js"
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class RedisProcess:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH (npm test installs it with apt-get)")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.log = workdir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on {self.port} did not start:\n{_tail(self.log)}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> str:
        """One command through redis-cli (for what the tests check in Redis itself)."""
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is not on PATH")
        result = subprocess.run([cli, "-p", str(self.port), *args], capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


class ServerProcess:
    def __init__(self, workdir: Path, redis_url: str, secret: str, extra_env: Optional[Dict[str, str]] = None) -> None:
        if not SERVER_MAIN.exists():
            raise RuntimeError(f"{SERVER_MAIN} is missing: build the server first (npm run build)")
        self.port = free_port()
        self.log = workdir / f"server-{self.port}.log"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(workdir)),
            "NODE_ENV": "production",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "REDIS_URL": redis_url,
            "AUTH_SECRET": secret,
            "LOG_LEVEL": "warn",
            **(extra_env or {}),
        }
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log_file = open(self.log, "ab")
        self.process = subprocess.Popen(
            ["node", str(SERVER_MAIN)], cwd=REPO_ROOT, env=self.env,
            stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server on {self.port} not ready:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if hasattr(self, "_log_file"):
            self._log_file.close()


class Stack:
    """One Redis and the servers on it; everything stopped by `close`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.workdir = Path(tempfile.mkdtemp(prefix="hyvve-py-"))
        self.redis = RedisProcess(self.workdir)
        self.servers: List[ServerProcess] = []

    def start(self, instances: int = 1, extra_env: Optional[Dict[str, str]] = None) -> "Stack":
        self.redis.start()
        for _ in range(instances):
            server = ServerProcess(self.workdir, self.redis.url, self.secret, extra_env)
            self.servers.append(server)
            server.start()
        return self

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.redis.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
