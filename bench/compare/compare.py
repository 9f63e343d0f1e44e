#!/usr/bin/env python3
"""Side-by-side comparison of HTTP/2 clients against one h2o server.

Runs `rebound bench`, h2load, curl (parallel HTTP/2) and a Go net/http
client (bench/compare/goclient) one after another on the same work, each
pinned to CPU 0 while h2o is pinned to CPU 1, and writes a Markdown table
and a JSON file of medians, plus docs/PERFORMANCE.md. Every number in those
files comes from a measurement made by this script.

Standard library only. Usually started through bench/compare/run.sh, which
installs the peers and builds rebound and the Go client first.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SMALL_BYTES = 64
LARGE_BYTES = 1 << 20
FORCED_CIPHER = "TLS_AES_128_GCM_SHA256"

# name, path, body bytes, connections, streams per connection, requests (full, quick), what it shows.
# The small-response cells run enough requests that start-up (process, TLS
# handshake) is under 1% of a client's CPU: their CPU per request is what
# the ratios compare.
CASES = [
    ("64B 1x100", "/64b", SMALL_BYTES, 1, 100, (1000000, 100000), "small responses, 100 streams on one connection"),
    ("64B 4x25", "/64b", SMALL_BYTES, 4, 25, (1000000, 100000), "small responses, 4 connections x 25 streams"),
    ("64B 1x1", "/64b", SMALL_BYTES, 1, 1, (5000, 1000), "one request at a time: latency"),
    ("1MiB 1x10", "/1m", LARGE_BYTES, 1, 10, (1000, 200), "1 MiB bodies, 10 streams: throughput"),
]
TRANSPORTS = ["tls", "h2c"]
# rebound runs twice per cell: its own I/O thread (the default Client) and
# on the caller's executor (an io_context the bench's thread runs, the mode
# comparable to h2load's single event loop).
REBOUNDS = ["rebound", "rebound-caller"]
CLIENTS = REBOUNDS + ["h2load", "curl", "go"]
# curl and Go spend 6 to 60 times rebound's CPU per request: 100,000
# requests already amortise their start-up, and a million would take minutes.
SLOW_CLIENT_MAX_REQUESTS = 100000
RUN_TIMEOUT_S = 180


# ---------------------------------------------------------------- helpers

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def percentile(sorted_values, p):
    """Same rule as `rebound bench`: the value at index floor(p * n)."""
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pin(cpu, argv, can_pin):
    return (["taskset", "-c", str(cpu)] + argv) if can_pin else argv


class Proc:
    """A child started with its output in files; `finish` reaps it with
    os.wait4 so the OS's CPU accounting of that process is ours to read."""

    def __init__(self, argv, stdout_path, stderr_path, env=None):
        self.argv = argv
        self.stdout_path, self.stderr_path = stdout_path, stderr_path
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        self.rc = None
        self.cpu_s = 0.0

    def finish(self, deadline):
        while True:
            pid, status, ru = os.wait4(self.popen.pid, os.WNOHANG)
            if pid == self.popen.pid:
                self.popen.returncode = self.rc = os.waitstatus_to_exitcode(status)
                self.cpu_s = ru.ru_utime + ru.ru_stime
                return
            if time.monotonic() > deadline:
                self.popen.send_signal(signal.SIGKILL)
                pid, status, ru = os.wait4(self.popen.pid, 0)
                self.popen.returncode = self.rc = -9
                self.cpu_s = ru.ru_utime + ru.ru_stime
                return
            time.sleep(0.002)

    def stdout(self):
        with open(self.stdout_path, "r", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, "r", errors="replace") as f:
            return f.read()


def run_procs(argvs, workdir, tag, env=None):
    """Starts every argv at once (curl with several connections is several
    processes), waits for all; returns (procs, wall seconds, CPU seconds)."""
    t0 = time.monotonic()
    procs = [Proc(a, os.path.join(workdir, f"{tag}.{i}.out"), os.path.join(workdir, f"{tag}.{i}.err"), env)
             for i, a in enumerate(argvs)]
    deadline = t0 + RUN_TIMEOUT_S
    for p in procs:
        p.finish(deadline)
    wall = time.monotonic() - t0
    return procs, wall, sum(p.cpu_s for p in procs)


def parse_bench_json(proc):
    """The result of a client that prints one JSON summary as its last line
    (`rebound bench --json` and the Go client share the shape)."""
    o = json.loads(proc.stdout().strip().splitlines()[-1])
    return {"requests": o["requests"], "succeeded": o["succeeded"], "failed": o["failed"],
            "seconds": o["seconds"], "p50_ms": o["latency_ms"]["p50"], "p99_ms": o["latency_ms"]["p99"],
            "status": o.get("status", {}), "errors": o.get("errors", {})}


# ---------------------------------------------------------------- server

H2O_CONF = """\
user: root
num-threads: 1
error-log: {dir}/h2o-error.log
access-log: /dev/null
ssl-session-resumption:
  mode: off
listen:
  host: 127.0.0.1
  port: {h2c_port}
listen:
  host: 127.0.0.1
  port: {tls_port}
  ssl:
    certificate-file: {dir}/cert.pem
    key-file: {dir}/key.pem
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: {dir}/docs
"""

# Restricts the server's TLS 1.3 suites so every client negotiates the same
# one (otherwise OpenSSL-default clients pick AES-256 and Go/h2load AES-128).
OPENSSL_CNF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Ciphersuites = {cipher}
"""


class H2o:
    def __init__(self, workdir, cpu, can_pin, force_cipher):
        self.dir = os.path.join(workdir, "h2o")
        os.makedirs(os.path.join(self.dir, "docs"), exist_ok=True)
        with open(os.path.join(self.dir, "docs", "64b"), "wb") as f:
            f.write(b"0123456789abcdef" * (SMALL_BYTES // 16))
        with open(os.path.join(self.dir, "docs", "1m"), "wb") as f:
            f.write(bytes(range(256)) * (LARGE_BYTES // 256))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(self.dir, "key.pem"), "-out", os.path.join(self.dir, "cert.pem")],
                       check=True, capture_output=True)
        self.tls_port, self.h2c_port = free_port(), free_port()
        conf = os.path.join(self.dir, "h2o.conf")
        with open(conf, "w") as f:
            f.write(H2O_CONF.format(dir=self.dir, tls_port=self.tls_port, h2c_port=self.h2c_port))
        env = dict(os.environ)
        if force_cipher:
            cnf = os.path.join(self.dir, "openssl.cnf")
            with open(cnf, "w") as f:
                f.write(OPENSSL_CNF.format(cipher=FORCED_CIPHER))
            env["OPENSSL_CONF"] = cnf
        self.log = open(os.path.join(self.dir, "h2o.out"), "wb")
        self.proc = subprocess.Popen(pin(cpu, ["h2o", "-c", conf], can_pin), stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        if not (wait_port(self.tls_port) and wait_port(self.h2c_port)):
            self.stop()
            raise RuntimeError("h2o did not start; see " + self.dir)

    def url(self, transport, path):
        if transport == "tls":
            return f"https://127.0.0.1:{self.tls_port}{path}"
        return f"http://127.0.0.1:{self.h2c_port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- clients
# Each client gives argv lists for one run and a parser of what they printed.
# Parsers return requests, succeeded, failed, seconds, latencies (ms) or the
# percentiles the tool reported, and body bytes. A client whose per-request
# times cost it CPU to record sets `separate_latency_run`: its argvs and parse
# then take latency_run=True for a second run that only supplies p50/p99.

def split(n, parts):
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


class ReboundClient:
    def __init__(self, binary, executor="own"):
        self.binary = binary
        self.executor = executor
        self.name = "rebound" if executor == "own" else "rebound-caller"

    def supports(self, transport, case):
        return True, ""

    def argvs(self, url, transport, n, c, m, workdir, tag):
        argv = [self.binary, "bench", url, "-n", str(n), "-c", str(c), "-m", str(m), "-t", "1", "--json",
                "--no-progress", "--executor", self.executor]
        argv += ["-k"] if transport == "tls" else ["--http2-prior-knowledge"]
        return [argv]

    def parse(self, procs, wall, workdir, tag, body_bytes):
        return parse_bench_json(procs[0])

    def version(self):
        return first_line([self.binary, "--version"])

    def cipher(self, url):
        out = subprocess.run([self.binary, "get", "-v", "-k", url], capture_output=True, text=True, timeout=30)
        m = re.search(r"dial_done.*\b(TLS_[A-Z0-9_]+)", out.stderr)
        return m.group(1) if m else None


class H2loadClient:
    """h2load prints only aggregate latencies; per-request times need
    --log-file, and writing that log costs h2load about 1 us of CPU per
    request on small responses, which rebound, keeping its latencies in
    memory, does not pay. So each cell runs twice: req/s, MB/s and CPU from
    a run without the log, p50/p99 from a second run of the same cell with
    it (see `measure`)."""
    name = "h2load"
    separate_latency_run = True

    def supports(self, transport, case):
        return True, ""

    @staticmethod
    def log_path(workdir, tag):
        return os.path.join(workdir, tag + ".log")

    def argvs(self, url, transport, n, c, m, workdir, tag, latency_run=False):
        argv = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m), "-t", "1"]
        if latency_run:
            argv.append("--log-file=" + self.log_path(workdir, tag))
        return [argv + [url]]

    @staticmethod
    def seconds(text):
        mt = re.search(r"finished in ([0-9.]+)(us|ms|s),", text)
        if not mt:
            raise ValueError("no 'finished in' line")
        return float(mt.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[mt.group(2)]

    def parse(self, procs, wall, workdir, tag, body_bytes, latency_run=False):
        text = procs[0].stdout()
        mr = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", text)
        if not mr:
            raise ValueError("no 'requests:' line in h2load output")
        lat, status = [], {}
        if latency_run:
            with open(self.log_path(workdir, tag)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        status[parts[1]] = status.get(parts[1], 0) + 1
                        lat.append(int(parts[2]) / 1000.0)
            lat.sort()
        else:
            # Without the log only classes of status are known.
            ms = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
            if ms:
                status = {f"{k}xx": int(v) for k, v in zip("2345", ms.groups()) if int(v)}
        return {"requests": int(mr.group(1)), "succeeded": int(mr.group(2)), "failed": int(mr.group(3)),
                "seconds": self.seconds(text), "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99),
                "status": status, "errors": {}}

    def version(self):
        return first_line(["h2load", "--version"])

    def cipher(self, url):
        out = subprocess.run(["h2load", "-n", "1", url], capture_output=True, text=True, timeout=30)
        m = re.search(r"Cipher: (\S+)", out.stdout)
        return m.group(1) if m else None


class CurlClient:
    """curl's parallel mode. c connections are c curl processes (curl picks
    its own connections and would put every stream on one); for h2c it
    upgrades from HTTP/1.1 (`--http2`), because curl 7.88 cannot reuse a
    prior-knowledge connection (every transfer after the first fails with
    error 16, against h2o and rebound's server alike). Its Upgrade path in
    turn fails on large bodies ("connection buffer size is too small to
    store data following HTTP Upgrade response header"), so h2c with 1 MiB
    bodies is not run."""
    name = "curl"
    max_requests = SLOW_CLIENT_MAX_REQUESTS

    def supports(self, transport, case):
        if transport == "h2c" and case[2] > 16384:
            return False, "n/a: curl 7.88's h2c Upgrade fails on large bodies (error 16)"
        return True, ""

    def argvs(self, url, transport, n, c, m, workdir, tag):
        out = []
        for i, share in enumerate(split(n, c)):
            argv = ["curl", "--silent", "--show-error", "--no-progress-meter", "--parallel",
                    "--parallel-max", str(m), "--http2", "-o", "/dev/null",
                    "-w", "%{http_code} %{time_total} %{size_download} %{num_connects}\\n"]
            if transport == "tls":
                argv.append("-k")
            # The fragment is not sent: every request is identical.
            argv.append(f"{url}#[1-{share}]")
            out.append(argv)
        return out

    def parse(self, procs, wall, workdir, tag, body_bytes):
        lat, status, failed, succeeded, connects = [], {}, 0, 0, 0
        for p in procs:
            for line in p.stdout().splitlines():
                parts = line.split()
                if len(parts) < 4:
                    continue
                connects += int(parts[3])
                status[parts[0]] = status.get(parts[0], 0) + 1
                if parts[0] == "200":
                    succeeded += 1
                    lat.append(float(parts[1]) * 1000.0)
                else:
                    failed += 1
        lat.sort()
        # curl reports no run time of its own: wall time of the processes.
        return {"requests": succeeded + failed, "succeeded": succeeded, "failed": failed, "seconds": wall,
                "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99), "status": status, "errors": {},
                "connections_opened": connects}

    def version(self):
        return " ".join(first_line(["curl", "--version"]).split()[:2]) + " (" + \
            " ".join(w for w in first_line(["curl", "--version"]).split() if w.startswith(("OpenSSL/", "nghttp2/"))) + ")"

    def cipher(self, url):
        out = subprocess.run(["curl", "-sv", "-k", "--http2", "-o", "/dev/null", url], capture_output=True,
                             text=True, timeout=30)
        m = re.search(r"SSL connection using \S+ / (\S+)", out.stderr)
        return m.group(1) if m else None


class GoClient:
    name = "go"
    max_requests = SLOW_CLIENT_MAX_REQUESTS

    def __init__(self, binary):
        self.binary = binary

    def supports(self, transport, case):
        if transport == "h2c":
            return False, "n/a: h2c needs golang.org/x/net (stdlib only)"
        return True, ""

    def argvs(self, url, transport, n, c, m, workdir, tag):
        return [[self.binary, "-n", str(n), "-c", str(c), "-m", str(m), url]]

    def parse(self, procs, wall, workdir, tag, body_bytes):
        return parse_bench_json(procs[0])

    def version(self):
        return first_line(["go", "version"])

    def cipher(self, url):
        out = subprocess.run([self.binary, "-n", "1", url], capture_output=True, text=True, timeout=30)
        try:
            return json.loads(out.stdout.strip().splitlines()[-1]).get("tls_cipher")
        except (ValueError, IndexError):
            return None


# ---------------------------------------------------------------- micro

MICRO_STANDARD_KEYS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
                       "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "label",
                       "error_occurred", "error_message", "aggregate_name", "aggregate_unit"}


def run_micro(binary, quick):
    """Runs rebound_bench (Google Benchmark) and returns its rows."""
    argv = [binary, "--benchmark_format=json"]
    if quick:
        argv += ["--benchmark_min_time=0.05", "--benchmark_filter=-BM_Memory_InFlight/in_flight:10000"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        return {"error": f"rebound_bench exit {out.returncode}: {out.stderr.strip()[-300:]}"}
    rows = []
    for b in doc.get("benchmarks", []):
        counters = {k: v for k, v in b.items() if k not in MICRO_STANDARD_KEYS and isinstance(v, (int, float))}
        rows.append({"name": b["name"], "label": b.get("label", ""), "real_time": b.get("real_time"),
                     "cpu_time": b.get("cpu_time"), "time_unit": b.get("time_unit", "ns"),
                     "error": b.get("error_message") if b.get("error_occurred") else None, "counters": counters})
    return {"exit_code": out.returncode, "context": doc.get("context", {}), "benchmarks": rows}


def human(v):
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.1f}k"
    if abs(v) >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.3g}"


def micro_table(micro):
    if not micro:
        return "(not run)"
    if "error" in micro:
        return "(failed: " + micro["error"] + ")"
    lines = ["| benchmark | time | CPU | figures |", "|---|---:|---:|---|"]
    for b in micro["benchmarks"]:
        unit = b["time_unit"]
        counters = ", ".join(f"{k} {human(v)}" for k, v in b["counters"].items() if k != "items_per_second")
        what = "; ".join(x for x in [b["label"], counters, b["error"] and "error: " + b["error"]] if x)
        lines.append(f"| `{b['name']}` | {b['real_time']:,.1f} {unit} | {b['cpu_time']:,.1f} {unit} | {what} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- machine

def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    os_name = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(), "os": os_name,
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "openssl": first_line(["openssl", "version"]), "h2o": first_line(["h2o", "--version"])}


def git_revision(root):
    rev = first_line(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return rev + ("+local changes" if dirty else "")


# ---------------------------------------------------------------- run

def run_once(client, url, transport, case, n, workdir, tag, can_pin, **kw):
    _, path, body_bytes, c, m, _, _ = case
    n = min(n, getattr(client, "max_requests", n))
    argvs = [pin(0, a, can_pin) for a in client.argvs(url, transport, n, c, m, workdir, tag, **kw)]
    procs, wall, cpu = run_procs(argvs, workdir, tag)
    rcs = [p.rc for p in procs]
    try:
        r = client.parse(procs, wall, workdir, tag, body_bytes, **kw)
    except (ValueError, KeyError, IndexError, OSError) as e:
        errs = " | ".join(p.stderr().strip()[-300:] for p in procs)
        return {"error": f"{type(e).__name__}: {e}; exit {rcs}; {errs}"}
    secs = r["seconds"] or wall
    done = r["requests"] or 1
    r.update({
        "exit_codes": rcs,
        "wall_seconds": wall,
        "req_per_s": r["requests"] / secs,
        # Response body bytes only, the same definition for every client.
        "mb_per_s": r["succeeded"] * body_bytes / secs / 1e6,
        "cpu_seconds": cpu,
        "cpu_us_per_req": cpu * 1e6 / done,
    })
    if r["failed"] or r["requests"] < n:
        first_err = next((p.stderr().strip().splitlines()[-1] for p in procs if p.stderr().strip()), "")
        r["note"] = f"{r['failed']} failed, {r['requests']}/{n} done {first_err}".strip()
    if r.get("connections_opened", case[3]) > case[3]:
        r["note"] = (r.get("note", "") + f" {r['connections_opened']} connections opened, not {case[3]}").strip()
    return r


def measure(client, url, transport, case, n, workdir, tag, can_pin):
    """One run of one cell. For a client with `separate_latency_run`, a second
    run of the same cell records per-request times: its p50/p99 replace the
    first run's (which has none); everything else stays the first run's, and
    the second run's own figures are kept under "latency_run"."""
    r = run_once(client, url, transport, case, n, workdir, tag, can_pin)
    if "error" in r or not getattr(client, "separate_latency_run", False):
        return r
    lat = run_once(client, url, transport, case, n, workdir, tag + "-latency", can_pin, latency_run=True)
    if "error" in lat:
        r["latency_run"] = {"error": lat["error"]}
        r["p50_ms"] = r["p99_ms"] = None
        r["note"] = (r.get("note", "") + " latency run failed: " + lat["error"][:200]).strip()
        return r
    r["latency_run"] = {k: lat.get(k) for k in ["requests", "succeeded", "failed", "seconds", "req_per_s",
                                                "cpu_seconds", "cpu_us_per_req", "p50_ms", "p99_ms", "status",
                                                "exit_codes", "note"] if lat.get(k) is not None}
    r["p50_ms"], r["p99_ms"] = lat["p50_ms"], lat["p99_ms"]
    if lat.get("note"):
        r["note"] = (r.get("note", "") + " latency run: " + lat["note"]).strip()
    return r


METRICS = ["req_per_s", "mb_per_s", "p50_ms", "p99_ms", "cpu_us_per_req"]


def summarise(runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0].get("error", "no run") if runs else "no run"}
    s = {k: median([r.get(k) for r in ok]) for k in METRICS}
    s["runs"] = len(ok)
    s["failed_requests"] = sum(r["failed"] for r in ok)
    with_log = [r["latency_run"].get("cpu_us_per_req") for r in ok if "latency_run" in r]
    if any(v is not None for v in with_log):
        # CPU/req of the separate latency run (with its per-request log), for reference only.
        s["latency_run_cpu_us_per_req"] = median(with_log)
    notes = [r["note"] for r in ok if r.get("note")]
    if notes:
        s["note"] = notes[0]
    return s


def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def markdown_table(results, clients):
    """One row per client and cell; a peer's row carries the ratios of each
    rebound mode that ran (own thread, then caller's executor) over it."""
    rebounds = [r for r in REBOUNDS if r in clients]
    heads = "".join(f" req/s {r}/peer | CPU/req {r}/peer |" for r in rebounds)
    lines = ["| case | transport | client | req/s | MB/s | p50 ms | p99 ms | CPU µs/req |" + heads,
             "|---|---|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(rebounds)]
    blank = " |" * (2 * len(rebounds))
    for case in CASES:
        for transport in TRANSPORTS:
            key = f"{case[0]} {transport}"
            row = results.get(key, {})
            for cl in clients:
                s = row.get(cl)
                if s is None:
                    continue
                if "skipped" in s or "error" in s:
                    what = s.get("skipped") or ("error: " + s["error"][:80].replace("|", "/"))
                    lines.append(f"| {case[0]} | {transport} | {cl} | {what} | | | | |" + blank)
                    continue
                dig = 1 if s["mb_per_s"] is not None and s["mb_per_s"] < 100 else 0
                ratios = ""
                for r in rebounds:
                    reb = row.get(r, {})
                    if cl in REBOUNDS:
                        ratios += " | |"
                    else:
                        ratios += (f" {fmt(ratio(reb.get('req_per_s'), s['req_per_s']), 2)} |"
                                   f" {fmt(ratio(reb.get('cpu_us_per_req'), s['cpu_us_per_req']), 2)} |")
                name = f"**{cl}**" if cl in REBOUNDS else cl
                if s.get("failed_requests"):
                    name += f" ({s['failed_requests']} failed)"
                lines.append(f"| {case[0]} | {transport} | {name} | {fmt(s['req_per_s'])} | "
                             f"{fmt(s['mb_per_s'], dig)} | {fmt(s['p50_ms'], 3)} | {fmt(s['p99_ms'], 3)} | "
                             f"{fmt(s['cpu_us_per_req'], 1)} |" + ratios)
    return "\n".join(lines)


def summary_table(results, clients):
    """Per peer: geometric mean over the cells both ran of rebound/peer for
    req/s and for CPU per request, with the cell count."""
    import math
    lines = ["| rebound | peer | cells | req/s rebound/peer (geomean) | CPU/req rebound/peer (geomean) | "
             "rebound faster in | rebound cheaper in |", "|---|---|---:|---:|---:|---:|---:|"]
    for mine in [r for r in REBOUNDS if r in clients]:
        for peer in clients:
            if peer in REBOUNDS:
                continue
            rr, cr = [], []
            for row in results.values():
                reb, other = row.get(mine, {}), row.get(peer, {})
                if reb.get("req_per_s") and other.get("req_per_s") and reb.get("cpu_us_per_req") and \
                        other.get("cpu_us_per_req"):
                    rr.append(reb["req_per_s"] / other["req_per_s"])
                    cr.append(reb["cpu_us_per_req"] / other["cpu_us_per_req"])
            if not rr:
                continue
            g = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
            lines.append(f"| {mine} | {peer} | {len(rr)} | {g(rr):.2f} | {g(cr):.2f} | "
                         f"{sum(x > 1 for x in rr)}/{len(rr)} | {sum(x < 1 for x in cr)}/{len(cr)} |")
    return "\n".join(lines)


def write_outputs(doc, out_dir, stem, docs_path, root):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, stem + ".json"), "w") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    table = markdown_table(doc["results"], doc["clients"])
    with open(os.path.join(out_dir, stem + ".md"), "w") as f:
        f.write(f"Run {doc['finished_utc']} ({doc['mode']}, median of {doc['repetitions']}), rebound "
                f"{doc['rebound_revision']}\n\n{table}\n\n{summary_table(doc['results'], doc['clients'])}\n\n"
                f"## Micro-benchmarks\n\n{micro_table(doc['micro'])}\n")
    if docs_path:
        with open(docs_path, "w") as f:
            f.write(performance_md(doc, table))
    return table


def h2load_note(doc):
    """The docs' bullet on how h2load was measured, with the CPU per request
    its --log-file added in this run's small-body cells with streams in
    flight (latency run minus throughput run; in the one-at-a-time cells
    wake-ups dwarf it)."""
    if "h2load" not in doc["clients"]:
        return ""
    cells = {name for name, _, body, _, m, _, _ in CASES if body == SMALL_BYTES and m > 1}
    diffs = []
    for key, row in doc["results"].items():
        h = row.get("h2load", {})
        if key.rsplit(" ", 1)[0] in cells and h.get("cpu_us_per_req") is not None and \
                h.get("latency_run_cpu_us_per_req") is not None:
            diffs.append(h["latency_run_cpu_us_per_req"] - h["cpu_us_per_req"])
    if not any("latency_run_cpu_us_per_req" in row.get("h2load", {}) for row in doc["results"].values()):
        # A JSON written before h2load got its separate latency run (--render-only).
        return """- **h2load** ran once per cell with `--log-file`, so its req/s and CPU
  µs/req include writing that per-request log, which rebound, keeping its
  latencies in memory, does not pay: h2load's req/s reads low and its CPU
  µs/req high.
"""
    cost = ""
    if diffs:
        cost = (f"\n  In this run the log added {median(diffs):.1f} µs of CPU per request (median;\n"
                f"  {min(diffs):.1f} to {max(diffs):.1f}) in the {SMALL_BYTES} B cells with streams in flight.")
    return f"""- **h2load runs each cell twice**: req/s, MB/s and CPU µs/req come from a
  run without `--log-file`, p50/p99 from a second run of the same cell
  (same requests, connections, streams and URL) with it. Writing that
  per-request log costs h2load CPU on every request, which rebound, keeping
  its latencies in memory, does not pay; measuring throughput and CPU with
  the log on would make h2load look slower and costlier than it is.{cost}
"""


# The narrative of #26's CPU work: figures measured with callgrind and
# rebound_alloc_count (deterministic counts, not this script's timings), each
# naming the commit it measured. Kept here so a rewrite of the page keeps it.
CPU_NOTES_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_notes.md")


def cpu_notes():
    try:
        with open(CPU_NOTES_PATH) as f:
            return f.read().strip()
    except OSError:
        return ""


def performance_md(doc, table):
    m = doc["machine"]
    ciphers = "\n".join(f"| {c} | {doc['ciphers'].get(c) or 'unknown'} | {doc['versions'].get(c, '')} |"
                        for c in doc["clients"])
    cases = "\n".join(f"| {name} | `{path}` ({body} B) | {c} | {mm} | {doc['requests'][name]:,} | {what} |"
                      for name, path, body, c, mm, _, what in CASES if name in doc["requests"])
    cipher_note = (f"The server is restricted to {FORCED_CIPHER} (an OpenSSL config for h2o only), so every "
                   "client runs the same cipher; without that, OpenSSL-default clients (rebound, curl) pick "
                   "TLS_AES_256_GCM_SHA384 while h2load and Go pick AES-128."
                   if doc["force_cipher"] else
                   "Each client negotiated its own preferred cipher (the run used --cipher any).")
    return f"""# Performance: rebound side by side

This page is written by `bench/compare/run.sh`; do not edit the numbers by
hand. Last run: {doc['finished_utc']} ({doc['mode']} mode, {doc['repetitions']} repetitions per
cell, median shown), rebound {doc['rebound_revision']} (binary built
{doc.get('rebound_binary_built_utc') or 'unknown'}).

## Machine

| | |
|---|---|
| CPUs (nproc) | {m['nproc']} |
| CPU model | {m['cpu_model']} |
| kernel | {m['kernel']} |
| OS | {m['os']} |
| OpenSSL | {m['openssl']} |
| server | {m['h2o']}, one thread, pinned to CPU 1 |
| load average at start / end | {' '.join(str(x) for x in m['loadavg_at_start'])} / {' '.join(str(x) for x in m.get('loadavg_at_end', []))} |
| run took | {doc['duration_s']} s |

Each client runs alone, pinned to CPU 0 with `taskset`, one after another
on the same work (clients alternate within each repetition). The machine
may be shared: compare clients within one run, not across runs. On a
virtual machine, one-request-at-a-time latency is dominated by waking an
idle virtual CPU, so it is faster when other work keeps the CPUs busy and
can differ several-fold between runs; the ratios are steadier than the
absolute figures.

## Results

{table}

In short (geometric means over the cells both clients ran; ratios are
rebound's figure over the peer's):

{summary_table(doc['results'], doc['clients'])}

- **req/s**: completed requests / the client's own run time (curl prints
  none: its process wall time). **MB/s**: response body bytes (10^6) per
  second, the same definition for every client.
- **p50/p99**: per-request latency from each tool's own per-request times
  (rebound and Go: their JSON, kept in memory; h2load: its `--log-file`,
  see below; curl: `%{{time_total}}` per transfer). With 100 streams in
  flight these are mostly queueing time.
- **CPU µs/req**: user + system CPU of the client process(es) from the
  kernel's accounting (`wait4` rusage), including start-up, TLS handshakes
  and, for curl, printing one line per transfer; divided by requests.
{h2load_note(doc)}- **ratios**: rebound's figure divided by the peer's. For req/s above 1
  means rebound is faster; for CPU/req below 1 means rebound is cheaper.
- Go is TLS only: net/http speaks h2c only with golang.org/x/net, which
  this build does not fetch.
- curl: `--parallel --parallel-max m --http2`; c connections are c curl
  processes; h2c is reached by Upgrade from HTTP/1.1, because curl 7.88
  cannot reuse a prior-knowledge connection (every transfer after the
  first fails with error 16, against h2o and rebound's server alike).
- rebound: `rebound bench -t 1` (one I/O thread of its own); rebound-caller:
  `rebound bench -t 1 --executor caller` (the Client on an io_context the
  bench's own thread runs: no I/O thread, no hop between threads, as
  h2load's one event loop). curl and Go run at most
  {SLOW_CLIENT_MAX_REQUESTS:,} requests per cell (their CPU per request is
  6-60 times rebound's, so their start-up is amortised there too). Go: c `http.Transport`s
  with one connection each, c x m goroutines, GOMAXPROCS 1 (from the pin).

## Cases

| case | resource | connections | streams each | requests | shows |
|---|---|---:|---:|---:|---|
{cases}

Each case runs over TLS (`https://`, ALPN h2) and h2c (`http://`, prior
knowledge except curl, see above).

## TLS

{cipher_note}

| client | cipher negotiated | version |
|---|---|---|
{ciphers}

## Where the CPU goes

For small responses h2load's cost per request is little more than
nghttp2's own parsing and framing; rebound runs the same nghttp2 calls plus
its client layers (request validation, deadlines, pooling, retry
bookkeeping, response objects, completions posted to the caller).
`bench/profile/instructions.sh [--tls] [--caller]` counts instructions per
request with callgrind for both clients on the same work and splits
rebound's count by part; its output is the profile behind any CPU/req ratio
above 1 here. `rebound_alloc_count [--own] [--tls] [--url URL]` (built with
the benchmarks) counts heap allocations per warm request: C++ ones (a
replaced operator new: rebound, Asio, the standard library) apart from the
C libraries' (an interposed malloc: nghttp2, OpenSSL).

{cpu_notes()}

## Reproduce

    bench/compare/run.sh            # full: {CASES[0][5][0]:,} small requests per cell, 3 repetitions (10-15 min)
    bench/compare/run.sh --quick    # before and after a hot-path change: {CASES[0][5][1]:,} small
                                    # requests per cell, 1 repetition (2-3 min);
                                    # writes bench/compare/results/quick.*, not this page

`run.sh` installs h2o, h2load, curl and Go from Debian
(`bench/compare/setup.sh`, skip with `--no-setup`), builds `rebound` and the
Go client (`bench/compare/goclient`, standard library only, no downloads),
then runs `bench/compare/compare.py`. Options: `--reps N`, `--cases
SUBSTRING`, `--clients rebound,h2load,...`, `--cipher any`, `--render-only`
(rewrite this page from the last JSON without measuring). Raw numbers of
every run are in `bench/compare/results/latest.json`.

## Micro-benchmarks

`rebound_bench` (Google Benchmark, sources in `bench/micro/`), run by the
same command after the comparison, with the embedded server
(`rebound::server::Server`, h2c and TLS, one I/O thread) in a forked child
pinned to CPU 1 and the client pinned to CPU 0, so CPU and memory figures
are the client's alone.

- `BM_EndToEnd`: GET /bytes/64 in a closed loop, W requests in flight on
  one HTTP/2 connection; `cpu_us_per_req` is the client process's CPU
  (getrusage), `us_per_req` wall time per request.
- `BM_Memory_IdleConnection`: heap in use (glibc `mallinfo2`, all arenas)
  per idle pooled HTTP/2 connection, and VmRSS growth per connection.
- `BM_Memory_OpenStream`: heap per request in flight on an open stream
  (request, exchange, nghttp2 stream, callback).
- `BM_Memory_InFlight`: N requests outstanding at once against
  `/delay/MS` (100 streams per connection); `peak_rss_MiB` is VmHWM, reset
  through `/proc/self/clear_refs` before the run.

{micro_table(doc['micro'])}

Run them alone:

    cmake --build build/default --target rebound_bench -j2
    build/default/bench/rebound_bench                      # all
    build/default/bench/rebound_bench --benchmark_filter=Memory
    ctest --test-dir build/default -R bench.smoke          # CI's quick run
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root_default = os.path.abspath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=root_default)
    ap.add_argument("--quick", action="store_true", help="10x fewer requests, 1 repetition, writes results/quick.*")
    ap.add_argument("--reps", type=int, help="repetitions per cell (default 3, quick 1)")
    ap.add_argument("--cases", help="only cases whose name contains this")
    ap.add_argument("--transports", default=",".join(TRANSPORTS))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--cipher", choices=["aes128", "any"], default="aes128",
                    help=f"aes128: the server offers only {FORCED_CIPHER} (default); any: OpenSSL defaults")
    ap.add_argument("--rebound", help="rebound binary (default build/default/rebound)")
    ap.add_argument("--goclient", help="Go client binary (default build/bench-compare/goclient)")
    ap.add_argument("--bench", help="rebound_bench binary (default build/default/bench/rebound_bench)")
    ap.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    ap.add_argument("--docs", action="store_true", help="rewrite docs/PERFORMANCE.md even in quick mode")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite results/latest.md and docs/PERFORMANCE.md from results/latest.json, measuring nothing")
    args = ap.parse_args()
    if args.render_only:
        out_dir = os.path.join(args.root, "bench", "compare", "results")
        with open(os.path.join(out_dir, "latest.json")) as f:
            doc = json.load(f)
        print(write_outputs(doc, out_dir, "latest", os.path.join(args.root, "docs", "PERFORMANCE.md"), args.root))
        return

    root = args.root
    reps = args.reps or (1 if args.quick else 3)
    rebound_bin = args.rebound or os.path.join(root, "build", "default", "rebound")
    go_bin = args.goclient or os.path.join(root, "build", "bench-compare", "goclient")
    for tool in ["h2o", "h2load", "curl", "openssl"]:
        if not shutil.which(tool):
            sys.exit(f"compare: {tool} not found; run bench/compare/setup.sh")
    all_clients = {"rebound": ReboundClient(rebound_bin), "rebound-caller": ReboundClient(rebound_bin, "caller"),
                   "h2load": H2loadClient(), "curl": CurlClient(),
                   "go": GoClient(go_bin)}
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in all_clients:
            sys.exit(f"compare: unknown client {c}")
    if any(r in clients for r in REBOUNDS) and not os.access(rebound_bin, os.X_OK):
        sys.exit(f"compare: {rebound_bin} missing; build rebound_cli first")
    if "go" in clients and not os.access(go_bin, os.X_OK):
        sys.exit(f"compare: {go_bin} missing; build bench/compare/goclient first")
    transports = [t for t in args.transports.split(",") if t in TRANSPORTS]
    cases = [c for c in CASES if not args.cases or args.cases in c[0]]
    can_pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    if not can_pin:
        log("compare: fewer than 2 CPUs or no taskset: running unpinned")

    work_parent = os.path.join(root, "build", "bench-compare")
    os.makedirs(work_parent, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="run-", dir=work_parent)
    # Measure one build from start to end even if the tree is rebuilt meanwhile.
    if any(r in clients for r in REBOUNDS):
        copy = shutil.copy2(rebound_bin, os.path.join(workdir, "rebound"))
        for r in REBOUNDS:
            all_clients[r].binary = copy
    started = time.monotonic()
    mach = machine()
    revision = git_revision(root)  # at the start: the tree may move on during the run
    binary_built = (datetime.datetime.fromtimestamp(os.path.getmtime(rebound_bin), datetime.timezone.utc)
                    .strftime("%Y-%m-%d %H:%M UTC") if os.path.exists(rebound_bin) else None)
    server = H2o(workdir, 1, can_pin, args.cipher == "aes128")
    results, raw = {}, {}
    try:
        ciphers, versions = {}, {}
        for name in clients:
            cl = all_clients[name]
            versions[name] = cl.version()
            try:
                ciphers[name] = cl.cipher(server.url("tls", "/64b"))
            except (OSError, subprocess.SubprocessError):
                ciphers[name] = None
        log("compare: ciphers " + ", ".join(f"{k}={v}" for k, v in ciphers.items()))
        requests = {}
        for case in cases:
            name, path, body, c, m, counts, _ = case
            n = counts[1] if args.quick else counts[0]
            requests[name] = n
            for transport in transports:
                key = f"{name} {transport}"
                url = server.url(transport, path)
                results[key], raw[key] = {}, {}
                runs = {cl: [] for cl in clients}
                for rep in range(reps):
                    for cl in clients:
                        ok, why = all_clients[cl].supports(transport, case)
                        if not ok:
                            continue
                        tag = f"{name.replace(' ', '_')}-{transport}-{cl}-{rep}"
                        r = measure(all_clients[cl], url, transport, case, n, workdir, tag, can_pin)
                        runs[cl].append(r)
                        log(f"compare: {key:<18} {cl:<8} rep {rep + 1}/{reps}: " +
                            (r["error"] if "error" in r else
                             f"{r['req_per_s']:>10,.0f} req/s {r['cpu_us_per_req']:7.1f} CPU us/req"
                             + (f" ({r['latency_run']['cpu_us_per_req']:.1f} in the latency run)"
                                if r.get("latency_run", {}).get("cpu_us_per_req") is not None else "")
                             + (f"  [{r['note']}]" if r.get("note") else "")))
                for cl in clients:
                    ok, why = all_clients[cl].supports(transport, case)
                    results[key][cl] = summarise(runs[cl]) if ok else {"skipped": why}
                    raw[key][cl] = runs[cl]
    finally:
        server.stop()

    micro = None
    bench_bin = args.bench or os.path.join(root, "build", "default", "bench", "rebound_bench")
    if not args.no_micro:
        if os.access(bench_bin, os.X_OK):
            log("compare: micro-benchmarks (rebound_bench)")
            micro = run_micro(shutil.copy2(bench_bin, os.path.join(workdir, "rebound_bench")), args.quick)
        else:
            log(f"compare: {bench_bin} missing; micro-benchmarks skipped")

    mach["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finished = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = {
        "finished_utc": finished,
        "mode": "quick" if args.quick else "full",
        "repetitions": reps,
        "duration_s": round(time.monotonic() - started, 1),
        "rebound_revision": revision,
        "rebound_binary_built_utc": binary_built,
        "machine": mach,
        "pinned": can_pin,
        "force_cipher": args.cipher == "aes128",
        "ciphers": ciphers,
        "versions": versions,
        "clients": clients,
        "requests": requests,
        "cases": [{"name": c[0], "path": c[1], "body_bytes": c[2], "connections": c[3], "streams": c[4],
                   "what": c[6]} for c in cases],
        "results": results,
        "micro": micro,
        "runs": raw,
    }
    out_dir = os.path.join(root, "bench", "compare", "results")
    write_docs = (args.docs or not args.quick) and not args.no_docs
    docs_path = os.path.join(root, "docs", "PERFORMANCE.md") if write_docs else None
    table = write_outputs(doc, out_dir, "quick" if args.quick else "latest", docs_path, root)
    print(table)
    log(f"compare: done in {doc['duration_s']} s; results in {out_dir}" +
        (f", {docs_path}" if docs_path else ""))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
