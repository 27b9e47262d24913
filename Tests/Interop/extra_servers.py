"""`talktime serve` processes of a test's own, beside the one scripts/test started: same binary, database and
settings as that one, plus the test's own settings, each on a free loopback port with its output in a log file.
The `extra_servers` fixture (conftest.py) makes them and stops whatever is still running when the test ends."""
import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from talktime_api import Talktime


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """One `talktime serve` that can be started, killed without warning and started again (on a new port).
    `settings` are added to the environment; a setting of None is taken out of it."""

    def __init__(self, name, settings, log_directory):
        self.name = name
        self.settings = settings
        self.log_directory = log_directory
        self.starts = 0
        self.process = None
        self.log = None
        self.log_path = None
        self.api = None

    def start(self):
        assert self.process is None or self.process.poll() is not None, f"{self.name} is already running"
        self.starts += 1
        port = free_port()
        environment = dict(os.environ, HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_LEVEL="warning")
        for name, value in self.settings.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        self.log_path = self.log_directory / f"{self.name}-{self.starts}.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [environment["TALKTIME_BIN"], "serve"], env=environment, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.api = Talktime(f"http://127.0.0.1:{port}")
        return self

    def wait_until_ready(self, deadline_seconds=60):
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                if self.api.http.get(self.api.url("/readyz"), timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        pytest.fail(f"{self.name} was not ready within {deadline_seconds} s:\n{self.log_path.read_text()}")

    def kill(self):
        """SIGKILL: no graceful shutdown, no rollback of its own; PostgreSQL ends what it had open."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()

    def stop(self):
        """SIGTERM and a wait for the graceful shutdown; SIGKILL if it does not come."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.log.close()
