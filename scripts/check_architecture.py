#!/usr/bin/env python3
"""Checks rebound's module edges and file sizes (issue #23; docs/ARCHITECTURE.md).

Every quoted and <rebound/...> include in the library, server, proxy,
kube, election and CLI sources is resolved to the module that owns the
included file; an include whose module is not in the including module's
allowed list (ALLOWED below: the one table of edges) is an error. So is a
cycle in the table itself, and a library or server source file over
MAX_LINES lines.

    scripts/check_architecture.py [ROOT]          # the repository (default: .)
    scripts/check_architecture.py --self-test     # proves a forbidden include fails

Exit 0 when clean; 1 with one line per violation.
"""
import os
import re
import sys

MAX_LINES = 450

# Where each module's files live: the longest matching path prefix wins.
# Public headers belong to the module that implements them.
MODULES = [
    ("include/rebound/", "api"),
    ("src/retry/", "retry"),
    ("src/net/", "net"),
    ("src/inflight/", "inflight"),
    ("src/conn/", "conn"),
    ("src/h1/", "h1"),
    ("src/h2/", "h2"),
    ("src/pool/", "pool"),
    ("src/follow/", "follow"),
    ("src/client/", "client"),
    ("src/endpoints/", "endpoints"),  # several endpoints of one service over the public Client
    ("src/", "core"),  # error, url, request: the public types' own code
    ("server/", "server"),
    ("proxy/", "proxy"),
    ("kube/", "kube"),
    ("election/", "election"),
    ("grpc/", "grpc"),
    ("etcd_proto/", "etcd_proto"),  # etcd's messages, generated (protobuf lite)
    ("lease_server/", "lease_server"),
    ("lease/", "lease_model"),  # the Lease object both election and the API server use
    ("soak/", "soak"),
    ("process/", "process"),
    ("cli/", "cli"),
]

# Who may include whom: the arrows point down only. A module may always
# include its own files.
ALLOWED = {
    "api": set(),
    "core": {"api"},
    "retry": {"api"},
    "net": {"api"},
    "inflight": {"api"},
    "conn": {"api", "inflight"},
    "h1": {"api", "inflight", "conn", "net"},
    "h2": {"api", "inflight", "conn", "net"},
    "pool": {"api", "inflight", "conn", "net", "retry"},
    "follow": {"api", "inflight"},
    "client": {"api", "inflight", "conn", "net", "retry", "pool", "h1", "h2", "follow"},
    "endpoints": {"api", "retry"},
    "server": {"api"},
    "proxy": {"api"},
    "kube": {"api"},
    "lease_model": {"api"},
    "grpc": {"api"},
    "etcd_proto": set(),
    "election": {"api", "kube", "lease_model", "grpc", "etcd_proto"},
    "lease_server": {"api", "server", "lease_model"},
    "process": set(),
    "soak": {"api", "server", "proxy", "process"},
    "cli": {"api", "server", "proxy", "kube", "election", "grpc", "lease_server", "lease_model", "soak", "process"},
}

# Source roots a quoted include is resolved against (besides the including
# file's own folder), per module.
QUOTE_ROOTS = {
    "core": ["src"],
    "retry": ["src"],
    "net": ["src"],
    "inflight": ["src"],
    "conn": ["src"],
    "h1": ["src"],
    "h2": ["src"],
    "pool": ["src"],
    "follow": ["src"],
    "client": ["src"],
    "server": ["server/src", "server/include"],
    "proxy": ["proxy/src", "proxy/include"],
    "kube": ["kube/src", "kube/include"],
    "election": ["election/src", "election/include"],
    "grpc": ["grpc/src", "grpc/include"],
    "etcd_proto": [],
    "lease_server": ["lease_server/src", "lease_server/include"],
    "lease_model": ["lease/src", "lease/include"],
    "soak": ["soak/src", "soak/include", "process"],
    "process": ["process"],
    "cli": ["cli", "process"],
    "api": [],
}

# <rebound/...> headers: which module's include folder holds them.
PUBLIC_INCLUDE_DIRS = [
    "include", "server/include", "proxy/include", "kube/include", "election/include", "grpc/include",
    "lease_server/include", "lease/include", "soak/include",
]

# Where the line limit applies: library and server sources (not tests, CLI
# commands or benchmarks).
SIZE_CHECKED = ("src/", "server/src/", "proxy/src/", "kube/src/", "election/src/", "grpc/src/", "lease_server/src/",
                "lease/src/", "soak/src/")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".ipp")


def module_of(path):
    best = None
    for prefix, name in MODULES:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, name)
    return best[1] if best else None


def resolve(root, including, kind, target):
    """The repository-relative path an include names, or None (a system header)."""
    mod = module_of(including)
    if kind == "<":
        if not target.startswith("rebound/"):
            return None
        for d in PUBLIC_INCLUDE_DIRS:
            candidate = os.path.join(d, target)
            if os.path.exists(os.path.join(root, candidate)):
                return candidate
        return "include/" + target  # unknown public header: judged as the core API's
    candidates = [os.path.join(os.path.dirname(including), target)]
    candidates += [os.path.join(r, target) for r in QUOTE_ROOTS.get(mod, [])]
    candidates += [os.path.join(d, target) for d in PUBLIC_INCLUDE_DIRS]
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.exists(os.path.join(root, c)):
            return c
    return None


def sources(root):
    for top in sorted({p.split("/")[0] for p, _ in MODULES}):
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, _, files in os.walk(base):
            for f in sorted(files):
                if f.endswith(SOURCE_SUFFIXES):
                    yield os.path.relpath(os.path.join(dirpath, f), root)


def find_cycle(edges):
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == "open":
                return stack + [node, nxt]
            if nxt not in state:
                found = visit(nxt, stack + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for n in sorted(edges):
        if n not in state:
            found = visit(n, [])
            if found:
                return found
    return None


def check(root):
    problems = []
    cycle = find_cycle(ALLOWED)
    if cycle:
        problems.append("the table of allowed edges has a cycle: " + " -> ".join(cycle))
    for path in sources(root):
        mod = module_of(path)
        if mod is None:
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        if path.startswith(SIZE_CHECKED) and len(lines) > MAX_LINES:
            problems.append(f"{path}: {len(lines)} lines (over {MAX_LINES}: a file doing two jobs)")
        for number, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = resolve(root, path, m.group(1), m.group(2))
            if target is None:
                continue
            to = module_of(target)
            if to is None or to == mod or to in ALLOWED.get(mod, set()):
                continue
            problems.append(f"{path}:{number}: {mod} includes {to} ({m.group(2)}): not an allowed edge")
    return problems


def self_test():
    """A fixture tree holding a forbidden include (pool -> client) and an
    oversize file must fail; the same tree without them must pass."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        write("src/client/shard.hpp", "#pragma once\n")
        write("src/pool/origin_pool.cpp", '#include "pool/origin_pool.hpp"\n#include <rebound/error.hpp>\n')
        write("src/pool/origin_pool.hpp", "#pragma once\n")
        write("include/rebound/error.hpp", "#pragma once\n")
        clean = check(root)
        if clean:
            print("self-test: a clean tree was judged dirty:", *clean, sep="\n  ")
            return 1
        write("src/pool/origin_pool.cpp", '#include "client/shard.hpp"\n')
        write("src/net/huge.cpp", "//\n" * (MAX_LINES + 1))
        dirty = check(root)
        want = ["pool includes client", f"{MAX_LINES + 1} lines"]
        missing = [w for w in want if not any(w in p for p in dirty)]
        if missing:
            print("self-test: the check missed:", *missing, sep="\n  ")
            return 1
    print("self-test: a forbidden include and an oversize file are caught")
    return 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    root = argv[1] if len(argv) > 1 else "."
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} architecture violation(s); the table is in scripts/check_architecture.py")
        return 1
    print("architecture: every include points down; no source file over", MAX_LINES, "lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
