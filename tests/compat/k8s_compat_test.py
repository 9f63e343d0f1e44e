#!/usr/bin/python3
"""Kubernetes' own clients against `rebound serve`'s Lease API.

    k8s_compat_test.py client  REBOUND   # the official Python client (python3-kubernetes)
    k8s_compat_test.py kubectl REBOUND   # kubectl: get --raw, get -o json, get -w

Starts `rebound serve --tls --leases-file ... --token ...` on 127.0.0.1 with a
certificate of its own, then checks that the client reads what the server
says as it would read a kube-apiserver: objects, lists, watch events,
Status errors (401, 403, 409, 410). A missing client skips (exit 77) with the
reason, or fails when REBOUND_REQUIRE_PEERS=1, like the other peer tests.
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import datetime

SKIP = 77
TOKEN = "compat-admin-token"
READ_TOKEN = "compat-reader-token"
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def missing_peer(reason):
    if os.environ.get("REBOUND_REQUIRE_PEERS") == "1":
        print("FAIL: required peer unavailable (REBOUND_REQUIRE_PEERS=1): " + reason, flush=True)
        sys.exit(1)
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


class Server:
    """`rebound serve` as a child process; stopped by its own pid."""

    def __init__(self, rebound, workdir, window=4):
        self.cert = os.path.join(workdir, "server.crt")
        key = os.path.join(workdir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", self.cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=30)
        self.watch_log = os.path.join(workdir, "watch.log")
        self.proc = subprocess.Popen(
            [rebound, "serve", "--tls", "--cert", self.cert, "--key", key,
             "--leases-file", os.path.join(workdir, "leases.json"), "--token", TOKEN, "--read-token", READ_TOKEN,
             "--watch-window", str(window), "--bookmark-interval", "300ms", "--watch-log", self.watch_log],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not ready:
            self.stop()
            raise RuntimeError("rebound serve printed no URL within 10 s")
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("https://"):
            self.stop()
            raise RuntimeError("rebound serve did not start: " + self.url + self.proc.stderr.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def micro_now():
    # kube-apiserver reads MicroTime as RFC3339 with six fractional digits:
    # Python omits them when they are zero, so never send that.
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(microsecond=now.microsecond or 1)


def run_client(server):
    try:
        import kubernetes
        from kubernetes import client, watch
        from kubernetes.client.rest import ApiException
    except ImportError as e:
        missing_peer("the official Kubernetes Python client is not installed (apt-get install python3-kubernetes): " +
                     str(e))

    def api_for(token):
        cfg = client.Configuration()
        cfg.host = server.url
        cfg.ssl_ca_cert = server.cert
        cfg.api_key = {"authorization": "Bearer " + token}
        return client.CoordinationV1Api(client.ApiClient(cfg))

    def status_of(e):
        body = json.loads(e.body)
        check(body.get("kind") == "Status" and body.get("apiVersion") == "v1", "error body is a Status: %s" % e.body)
        check(body.get("code") == e.status, "Status code %s matches HTTP %s" % (body.get("code"), e.status))
        return body

    def expect_error(call, status, reason):
        try:
            call()
        except ApiException as e:
            check(e.status == status, "expected %d, got %d: %s" % (status, e.status, e.body))
            body = status_of(e)
            check(body.get("reason") == reason, "expected reason %s: %s" % (reason, e.body))
            return body
        check(False, "expected ApiException %d %s, got success" % (status, reason))
        return {}

    ns = "default"
    api = api_for(TOKEN)
    print("kubernetes client", kubernetes.__version__, "against", server.url, flush=True)

    # create, read
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name="py-lock"),
                           spec=client.V1LeaseSpec(holder_identity="alpha", lease_duration_seconds=15,
                                                   acquire_time=micro_now(), renew_time=micro_now()))
    created = api.create_namespaced_lease(ns, lease)
    check(isinstance(created, client.V1Lease), "create returns a V1Lease")
    check(created.metadata.name == "py-lock" and created.metadata.namespace == ns, "create sets name and namespace")
    check(bool(created.metadata.uid) and bool(created.metadata.resource_version), "create sets uid and version")
    check(created.spec.holder_identity == "alpha", "create keeps the spec")
    read = api.read_namespaced_lease("py-lock", ns)
    check(read.metadata.resource_version == created.metadata.resource_version, "read returns the stored version")
    check(read.spec.renew_time is not None and read.spec.renew_time.tzinfo is not None, "renewTime reads back")
    expect_error(lambda: api.create_namespaced_lease(ns, lease), 409, "AlreadyExists")
    expect_error(lambda: api.read_namespaced_lease("no-such-lease", ns), 404, "NotFound")

    # replace: current version wins, a stale one is 409 Conflict
    read.spec.holder_identity = "beta"
    read.spec.renew_time = micro_now()
    replaced = api.replace_namespaced_lease("py-lock", ns, read)
    check(replaced.spec.holder_identity == "beta", "replace applies the change")
    check(int(replaced.metadata.resource_version) > int(created.metadata.resource_version), "versions increase")
    stale = created
    stale.spec.holder_identity = "gamma"
    body = expect_error(lambda: api.replace_namespaced_lease("py-lock", ns, stale), 409, "Conflict")
    check("the object has been modified" in body.get("message", ""), "Conflict message as kube-apiserver's")

    # list, with a field selector (client-go's single-object informers use it)
    listed = api.list_namespaced_lease(ns)
    check(isinstance(listed, client.V1LeaseList), "list returns a V1LeaseList")
    check(bool(listed.metadata.resource_version), "list has metadata.resourceVersion")
    check(int(listed.metadata.resource_version) >= int(replaced.metadata.resource_version), "list version is current")
    check([i.metadata.name for i in listed.items] == ["py-lock"], "list holds the lease")
    selected = api.list_namespaced_lease(ns, field_selector="metadata.name=other")
    check(selected.items == [], "field selector filters")
    every = api.list_lease_for_all_namespaces()
    check(any(i.metadata.name == "py-lock" for i in every.items), "all-namespaces list")
    list_rv = listed.metadata.resource_version

    # watch from the list's version: ADDED, MODIFIED, DELETED of a second lease
    def writer():
        time.sleep(0.3)
        b = api.create_namespaced_lease(ns, client.V1Lease(metadata=client.V1ObjectMeta(name="py-b"),
                                                           spec=client.V1LeaseSpec(holder_identity="one")))
        b.spec.holder_identity = "two"
        api.replace_namespaced_lease("py-b", ns, b)
        api.delete_namespaced_lease("py-b", ns)

    thread = threading.Thread(target=writer)
    thread.start()
    events = []
    w = watch.Watch()
    deadline = time.monotonic() + 10
    for event in w.stream(api.list_namespaced_lease, ns, resource_version=list_rv, allow_watch_bookmarks=True,
                          timeout_seconds=5):
        if event["type"] != "BOOKMARK":
            events.append(event)
        if event["type"] == "DELETED" or time.monotonic() > deadline:
            w.stop()
    thread.join()
    kinds = [(e["type"], e["object"].metadata.name) for e in events]
    check(kinds == [("ADDED", "py-b"), ("MODIFIED", "py-b"), ("DELETED", "py-b")], "watch events: %s" % kinds)
    if len(events) == 3:
        check(isinstance(events[0]["object"], client.V1Lease), "watch objects decode as V1Lease")
        check(events[0]["object"].spec.holder_identity == "one", "ADDED carries the created object")
        check(events[1]["object"].spec.holder_identity == "two", "MODIFIED carries the new object")
        versions = [int(e["object"].metadata.resource_version) for e in events]
        check(versions == sorted(versions) and len(set(versions)) == 3, "event versions increase: %s" % versions)
        check(versions[0] > int(list_rv), "no event at or before the watch's version")

    # a version older than the window (4 changes): 410 Expired
    for n in range(5):
        cur = api.read_namespaced_lease("py-lock", ns)
        cur.spec.lease_transitions = n + 1
        api.replace_namespaced_lease("py-lock", ns, cur)
    try:
        for _ in watch.Watch().stream(api.list_namespaced_lease, ns, resource_version=list_rv, timeout_seconds=3):
            pass
        check(False, "a too-old resourceVersion must fail the watch")
    except ApiException as e:
        check(e.status == 410, "too-old watch: 410, got %s" % e.status)
        check("Expired" in str(e.reason) and "too old resource version" in str(e.reason), "410 reason: %s" % e.reason)

    # a watch that times out ends cleanly
    started = time.monotonic()
    got = [e["type"] for e in watch.Watch().stream(api.list_namespaced_lease, ns, timeout_seconds=1)]
    check(got == ["ADDED"], "watch from now starts with the current lease: %s" % got)
    check(time.monotonic() - started < 4, "timeoutSeconds ends the watch")

    # authentication and authorization
    expect_error(lambda: api_for("wrong-token").list_namespaced_lease(ns), 401, "Unauthorized")
    reader = api_for(READ_TOKEN)
    check(len(reader.list_namespaced_lease(ns).items) == 1, "a read-only token may list")
    cur = reader.read_namespaced_lease("py-lock", ns)
    body = expect_error(lambda: reader.replace_namespaced_lease("py-lock", ns, cur), 403, "Forbidden")
    check('cannot update resource "leases"' in body.get("message", ""), "Forbidden message: %s" % body)

    # delete answers a Status
    deleted = api.delete_namespaced_lease("py-lock", ns)
    check(getattr(deleted, "status", None) == "Success", "delete answers Status Success")
    expect_error(lambda: api.delete_namespaced_lease("py-lock", ns), 404, "NotFound")

    # the send log recorded what was committed and sent
    with open(server.watch_log) as f:
        log = f.read().splitlines()
    check(any(line.startswith("commit DELETED default/py-b ") for line in log), "send log has the commits")
    check(any(" DELETED default/py-b " in line and not line.startswith("commit") for line in log),
          "send log has the watch's events")


def run_kubectl(server, workdir):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        missing_peer("kubectl is not installed (Debian: apt-get install kubernetes-client)")
    config = os.path.join(workdir, "kubeconfig")
    cache = os.path.join(workdir, "kube-cache")
    base = [kubectl, "--kubeconfig", config]

    def kc(*args, timeout=30):
        return subprocess.run(base + ["--cache-dir", cache] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    for args in (["config", "set-cluster", "rebound", "--server", server.url, "--certificate-authority", server.cert],
                 ["config", "set-credentials", "tester", "--token", TOKEN],
                 ["config", "set-context", "rebound", "--cluster", "rebound", "--user", "tester",
                  "--namespace", "default"],
                 ["config", "use-context", "rebound"]):
        r = subprocess.run(base + args, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "kubectl %s: %s" % (" ".join(args), r.stderr))

    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "kc-lock"},
             "spec": {"holderIdentity": "kubectl"}}
    # --validate=false: the server serves no OpenAPI document to validate against.
    r = subprocess.run(base + ["--cache-dir", cache, "create", "--validate=false", "-f", "-", "-o", "json"],
                       input=json.dumps(lease),
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "kubectl create -f: %s %s" % (r.stdout, r.stderr))

    r = kc("get", "--raw", "/apis/coordination.k8s.io/v1/namespaces/default/leases")
    check(r.returncode == 0, "kubectl get --raw: " + r.stderr)
    if r.returncode == 0:
        doc = json.loads(r.stdout)
        check(doc.get("kind") == "LeaseList" and bool(doc["metadata"].get("resourceVersion")), "raw LeaseList")

    r = kc("get", "leases", "-n", "default", "-o", "json")
    check(r.returncode == 0, "kubectl get leases -o json: " + r.stderr)
    if r.returncode == 0:
        doc = json.loads(r.stdout)
        names = [i["metadata"]["name"] for i in doc.get("items", [])]
        check(names == ["kc-lock"], "kubectl lists the lease: %s" % names)

    r = kc("get", "lease", "kc-lock", "-n", "default")
    check(r.returncode == 0 and "kc-lock" in r.stdout, "kubectl get lease NAME (table): %s %s" % (r.stdout, r.stderr))

    # kubectl get -w: the initial object, then the change we make
    proc = subprocess.Popen(base + ["--cache-dir", cache, "get", "leases", "-n", "default", "-w", "-o", "json",
                                    "--output-watch-events"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        deadline = time.monotonic() + 15
        buffer = ""
        changed = False
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536).decode()
                if not chunk:
                    break
                buffer += chunk
                # -o json prints each event as indented JSON: split on top-level objects
                decoder = json.JSONDecoder()
                while True:
                    stripped = buffer.lstrip()
                    if not stripped:
                        buffer = ""
                        break
                    try:
                        obj, end = decoder.raw_decode(stripped)
                    except ValueError:
                        break
                    seen.append((obj.get("type"), obj.get("object", {}).get("spec", {}).get("holderIdentity")))
                    buffer = stripped[end:]
            if seen and not changed:
                changed = True
                cur = json.loads(kc("get", "lease", "kc-lock", "-n", "default", "-o", "json").stdout)
                cur["spec"]["holderIdentity"] = "kubectl-2"
                r = subprocess.run(base + ["--cache-dir", cache, "replace", "--validate=false", "-f", "-"], input=json.dumps(cur),
                                   capture_output=True, text=True, timeout=30)
                check(r.returncode == 0, "kubectl replace: " + r.stderr)
            if ("MODIFIED", "kubectl-2") in seen:
                break
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    check(("ADDED", "kubectl") in seen and ("MODIFIED", "kubectl-2") in seen,
          "kubectl get -w saw the lease and its change: %s %s" % (seen, err))

    # a wrong token: kubectl reports the 401 Status
    r = subprocess.run(base + ["--cache-dir", cache, "--token", "wrong", "get", "leases", "-n", "default"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "Unauthorized" in r.stderr, "kubectl with a wrong token: %s" % r.stderr)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("client", "kubectl"):
        print(__doc__)
        return 2
    mode, rebound = sys.argv[1], sys.argv[2]
    if shutil.which("openssl") is None:
        missing_peer("openssl is not installed")
    workdir = tempfile.mkdtemp(prefix="rebound-compat-")
    server = None
    try:
        server = Server(rebound, workdir)
        if mode == "client":
            run_client(server)
        else:
            run_kubectl(server, workdir)
    finally:
        if server:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures), flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
