"""A real PostgreSQL for tests: Debian's server binaries run a cluster of their own in a
temporary folder, listening on 127.0.0.1 only, loaded with tables from parquet files.

PostgreSQL refuses to run as root, so under root the server and its tools run as `nobody`
(subprocess's `user=`), in a folder that user owns; otherwise as the current user. Host
connections need a password (scram-sha-256), so a reader that sends none is refused as on a
real server.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tests.support.prerequisites import missing

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
INSTALL = "apt-get install postgresql"
USER = "labelspark"
PASSWORD = "not-a-secret-3f9c"
DATABASE = "retail"
# PostgreSQL types of the Arrow types the demo's tables hold
_PG_TYPES = {pa.string(): "text", pa.date32(): "date", pa.float64(): "double precision",
             pa.timestamp("us", tz="UTC"): "timestamptz", pa.int64(): "bigint", pa.bool_(): "boolean"}


@dataclass(frozen=True)
class Postgres:
    """A running server: where it listens and how to sign in."""

    port: int
    socket_dir: Path
    bin: Path
    run_as: str | None

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{DATABASE}"

    def psql(self, sql: str, stdin: str | None = None, database: str = DATABASE) -> str:
        """Runs `sql` through psql over the unix socket (trusted there); returns its output."""
        done = subprocess.run([str(self.bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", USER,
                               "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                              input=stdin, capture_output=True, text=True, user=self.run_as, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def load_parquet(self, table: str, folder: Path) -> int:
        """Creates `table` shaped like the parquet files in `folder` and copies their rows in."""
        data = pq.read_table(folder)
        columns = ", ".join(f'"{field.name}" {_PG_TYPES[field.type]}' for field in data.schema)
        self.psql(f'DROP TABLE IF EXISTS "{table}"; CREATE TABLE "{table}" ({columns})')
        text = io.BytesIO()
        pa_csv.write_csv(data, text, pa_csv.WriteOptions(quoting_style="all_valid"))
        self.psql(f'COPY "{table}" FROM STDIN WITH (FORMAT csv, HEADER true)', stdin=text.getvalue().decode())
        return int(self.psql(f'SELECT count(*) FROM "{table}"'))


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """Starts a fresh cluster on a free loopback port; stops it and removes its folder on exit."""
    if not BINARIES:
        missing(f"needs PostgreSQL's server binaries under /usr/lib/postgresql: {INSTALL}")
    bin = BINARIES[-1].parent
    run_as = "nobody" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="labelspark-pg-"))
    if run_as:
        shutil.chown(root, user=run_as)
    data, password_file = root / "data", root / "password"
    password_file.write_text(PASSWORD)
    if run_as:
        shutil.chown(password_file, user=run_as)
    server = Postgres(_free_port(), root, bin, run_as)
    try:
        _run(server, "initdb", "-D", str(data), "-U", USER, f"--pwfile={password_file}", "--auth-local=trust",
             "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")
        options = f"-h 127.0.0.1 -p {server.port} -k {root} -c fsync=off"
        _run(server, "pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start")
        try:
            server.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
            yield server
        finally:
            _run(server, "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(server: Postgres, tool: str, *args: str) -> None:
    done = subprocess.run([str(server.bin / tool), *args], capture_output=True, text=True, user=server.run_as,
                          cwd=server.socket_dir, timeout=120)
    if done.returncode != 0:
        log = server.socket_dir / "server.log"
        raise RuntimeError(f"{tool} failed: {done.stderr}{log.read_text() if log.exists() else ''}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

