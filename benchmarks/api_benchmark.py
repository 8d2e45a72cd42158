"""Throughput and latency of the final app's GET /books against a bare Flask app.

Both apps run under gunicorn with the settings of the Render Blueprint's ``startCommand``
(``render.yaml`` at the root of the repository, read by this script), bound to 127.0.0.1 only,
and are loaded by the same client at the same concurrency for the same time:

* the final app (``solutions/09-hateoas``, its own ``wsgi.py``, configured from ``DATABASE_URL``
  and ``SECRET_KEY``, schema built by ``flask db upgrade``) on PostgreSQL, seeded with 1,000
  books, answering
  ``GET /books?page=25&per_page=20`` (one paginated page: a COUNT, a page of rows with their
  authors, links on every book, a Link header). Each worker builds the page once and then sends
  it from its page cache (``bookshelf/page_cache.py``) after one query for the data version;
  ``--page-cache-size 0`` turns the cache off, to measure the page being built every time;
* a bare Flask app answering ``GET /`` with ``{"hello": "world"}``.

The load tool is ``wrk`` (Debian package ``wrk``) when it is installed: it is written in C and
does not compete with the servers for the interpreter. Without it, a client of Python threads
with keep-alive connections stands in (``--client threads``); it is slower than wrk, and the
report says which one ran.

PostgreSQL: ``--database-url`` names a server; otherwise the script starts a throwaway one with
``initdb``/``pg_ctl`` (as the ``postgres`` user when run as root) in a temporary folder on a
loopback port, and removes it afterwards. ``--sqlite`` uses a SQLite file instead.

    python benchmarks/api_benchmark.py                  # 16 connections, 10 s per app
    python benchmarks/api_benchmark.py --duration 20 --server-options "--workers 4"
    python benchmarks/api_benchmark.py --rounds 3       # bare, list, bare, list...: the median
    python benchmarks/api_benchmark.py --page-cache-size 0   # every page built again

On a machine that other work shares, the load changes between two runs. ``--rounds`` keeps both
servers up and alternates the two measurements, so each round compares the apps under about the
same load; the report shows every round, then the median ratio and the median list p99.

Targets (the report marks them): the list at least 50% of the bare app's requests per second,
and its p99 latency under 50 ms. The numbers depend on the machine and on what else runs there.
"""

import argparse
import contextlib
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FINAL_APP = ROOT / "solutions" / "09-hateoas"
BLUEPRINT = ROOT / "render.yaml"
BOOKS = 1000
LIST_PATH = "/books?page=25&per_page=20"
TARGET_SHARE = 0.5
TARGET_P99_MS = 50.0

BARE_APP = '''
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"hello": "world"}
'''

SEED = '''
import sys
from bookshelf import create_app
from bookshelf.db import db
from bookshelf.models import Author, Book

app = create_app()  # DATABASE_URL and SECRET_KEY from the environment, as on Render
with app.app_context():
    authors = [Author(name=f"Author {n}") for n in range(1, 51)]
    db.session.add_all(authors)
    count = int(sys.argv[1])
    db.session.add_all(
        Book(title=f"Book {n}", author=authors[n % 50], year=1900 + n % 120) for n in range(count)
    )
    db.session.commit()
    print(db.session.query(Book).count())
'''


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(args):
    """Run a PostgreSQL command, as the postgres user when this process is root."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def throwaway_postgres(workdir):
    """A PostgreSQL server on a loopback port, with a database ``bookshelf``; yields its URL."""
    if not shutil.which("initdb") or not shutil.which("pg_ctl"):
        raise SystemExit("initdb/pg_ctl not found: install postgresql, or pass --sqlite")
    data = workdir / "pgdata"
    data.mkdir()
    os.chmod(workdir, 0o755)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off"
    as_postgres(["pg_ctl", "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"])
    try:
        as_postgres(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bookshelf"])
        # The form Render hands out; the app normalises it to postgresql+psycopg://.
        yield f"postgres://postgres@127.0.0.1:{port}/bookshelf"
    finally:
        as_postgres(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"])


def seed(env):
    """Build the schema as the Blueprint's build command does (``flask db upgrade``), then add
    1,000 books by 50 authors."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "bookshelf", "db", "upgrade"],
                   env=env, check=True, capture_output=True, text=True, cwd=FINAL_APP)
    result = subprocess.run([sys.executable, "-c", SEED, str(BOOKS)], env=env, check=True,
                            capture_output=True, text=True, cwd=FINAL_APP)
    return int(result.stdout.strip().splitlines()[-1])


def blueprint_server_options():
    """The gunicorn options of the Blueprint's ``startCommand`` (``gunicorn wsgi:app ...``)."""
    [service] = yaml.safe_load(BLUEPRINT.read_text())["services"]
    command = shlex.split(service["startCommand"])
    if command[0] != "gunicorn" or "wsgi:app" not in command:
        raise SystemExit(f"{BLUEPRINT}: startCommand is not `gunicorn wsgi:app ...`: {command}")
    return [word for word in command[1:] if word != "wsgi:app"]


@contextlib.contextmanager
def gunicorn(module, folder, options, env, log):
    """gunicorn serving ``module:app`` from ``folder`` on 127.0.0.1 with ``options``; yields its
    base URL. Its access log (standard output) is dropped; its error log goes to ``log``."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *options,
               "--bind", f"127.0.0.1:{port}", "--chdir", str(folder), f"{module}:app"]
    server = subprocess.Popen(command, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise SystemExit(f"gunicorn did not start: {shlex.join(command)}\n"
                                     f"{Path(log.name).read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a graceful stop can take long on a busy machine
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url, connections, duration):
    """Load ``url`` with wrk; returns (requests/s, p50 ms, p99 ms, requests, errors)."""
    threads = min(2, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
               "--timeout", "5s", "--latency", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            timeout=duration + 30).stdout

    def latency(percent):
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * UNITS[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    problems = int(errors.group(1)) if errors else 0
    if socket_errors:
        problems += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return rate, latency(50), latency(99), total, problems


def run_threads(url, connections, duration, max_requests=200_000):
    """The stand-in client: ``connections`` threads, each with one keep-alive connection."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].partition("/")[2]
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.monotonic() + duration

    def worker():
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        mine = []
        while time.monotonic() < stop and len(mine) < max_requests // connections:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except OSError:
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=5)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49], cuts[98], len(latencies), errors[0]


def measure(client, url, connections, duration):
    """A short warm-up, then the measured run."""
    client(url, connections, min(2, duration))
    return client(url, connections, duration)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per app (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--server-options", type=shlex.split,
                        help="gunicorn options instead of those of render.yaml's startCommand")
    parser.add_argument("--client", choices=("wrk", "threads"),
                        default="wrk" if shutil.which("wrk") else "threads")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure bare then list this many times, alternating (default 1)")
    parser.add_argument("--page-cache-size", type=int,
                        help="the final app's PAGE_CACHE_SIZE (default: the app's own; 0 = off)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="a PostgreSQL URL (postgres://...)")
    where.add_argument("--sqlite", action="store_true", help="use a SQLite file")
    args = parser.parse_args()
    client = run_wrk if args.client == "wrk" else run_threads
    options = args.server_options or blueprint_server_options()

    load_before = " ".join(f"{load:.2f}" for load in os.getloadavg())
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="api-benchmark-")))
        if args.database_url:
            database_url, database = args.database_url, "PostgreSQL (given)"
        elif args.sqlite:
            database_url, database = f"sqlite:///{workdir / 'bench.sqlite'}", "SQLite"
        else:
            database_url = stack.enter_context(throwaway_postgres(workdir))
            database = "PostgreSQL (throwaway server)"
        (workdir / "bare.py").write_text(textwrap.dedent(BARE_APP))
        env = {**os.environ, "PYTHONPATH": f"{FINAL_APP}{os.pathsep}{workdir}",
               "DATABASE_URL": database_url, "SECRET_KEY": "benchmark-" + os.urandom(8).hex(),
               "PYTHONDONTWRITEBYTECODE": "1"}
        if args.page_cache_size is not None:
            env["FLASK_PAGE_CACHE_SIZE"] = str(args.page_cache_size)
        stored = seed(env)
        log = stack.enter_context(open(workdir / "gunicorn.log", "w"))

        bare_url = stack.enter_context(gunicorn("bare", workdir, options, env, log)) + "/"
        # The app's own wsgi.py, as on Render.
        list_url = stack.enter_context(gunicorn("wsgi", FINAL_APP, options, env, log)) + LIST_PATH
        rounds = []
        for _ in range(args.rounds):
            bare = measure(client, bare_url, args.connections, args.duration)
            rounds.append((bare, measure(client, list_url, args.connections, args.duration)))

    cache = "app default" if args.page_cache_size is None else args.page_cache_size
    print(f"{stored} books on {database}; gunicorn {shlex.join(options)} on 127.0.0.1; "
          f"client {args.client}, {args.connections} connections, {args.duration} s per app; "
          f"page cache size {cache}; {os.cpu_count()} CPUs; load average before {load_before}")
    width = 44 if len(rounds) == 1 else 53
    header = ("endpoint", "req/s", "p50 ms", "p99 ms", "requests", "errors")
    print(f"{{:<{width}}} {{:>9}} {{:>8}} {{:>8}} {{:>9}} {{:>7}}".format(*header))
    for number, measured in enumerate(rounds, start=1):
        label = f"round {number}: " if len(rounds) > 1 else ""
        names = (f"{label}bare Flask GET /", f"{label}final app GET {LIST_PATH}")
        for name, (rate, p50, p99, total, errors) in zip(names, measured, strict=True):
            print(f"{name:<{width}} {rate:>9.1f} {p50:>8.2f} {p99:>8.2f} {total:>9} {errors:>7}")
    # Over several rounds: the median of the list/bare ratios and of the list's p99 (the lower
    # middle one for an even count).
    middle = (len(rounds) - 1) // 2
    share = sorted(listing[0] / bare[0] for bare, listing in rounds)[middle]
    p99 = sorted(listing[2] for _, listing in rounds)[middle]
    if len(rounds) > 1:
        print(f"medians over {len(rounds)} rounds:")
    share_met = "met" if share >= TARGET_SHARE else "NOT met"
    p99_met = "met" if p99 < TARGET_P99_MS else "NOT met"
    print(f"list/bare throughput: {share:.0%} (target >= {TARGET_SHARE:.0%}: {share_met}); "
          f"list p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms: {p99_met})")


if __name__ == "__main__":
    main()
