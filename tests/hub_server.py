"""A loopback Hub: a small HTTP server speaking the parts of the Hugging Face Hub protocol the real clients use.

`huggingface_hub` (HfApi commits, `snapshot_download`, HfFileSystem) and `datasets` (`push_to_hub`, `load_dataset`,
streaming) drive it unchanged through `HF_ENDPOINT`, so tests exercise the real network code rather than a patched API.

What it holds, in memory: users (one per token) and organizations, which together are the namespaces; repos owned by a
namespace, each with branches pointing at commits; every commit a full snapshot of the files (git-like: a commit id,
a parent, a title and a message); LFS objects uploaded through the batch API before the commit that references them.

What it answers like the Hub does: 401 for a missing or unknown token on a write, 403 for a namespace the caller cannot
write to, 404 with `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`) for what does not exist,
409 for a repo that exists, 412 for a stale `parentCommit`. Tests can make the next requests to a path fail with any
status (`HubServer.inject_fault`), and read every request that reached the server (`HubServer.requests`); the log
records who the caller was, never the token itself.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
# Files stored through LFS, like the `.gitattributes` the Hub writes into a new repo.
LFS_PATTERNS = (
    "*.parquet",
    "*.arrow",
    "*.bin",
    "*.safetensors",
    "*.pt",
    "*.npy",
    "*.zip",
    "*.gz",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.webp",
)
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
INITIAL_GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in LFS_PATTERNS)
DEFAULT_TOKEN = "hf_test_token_for_the_loopback_hub"
DEFAULT_USER = "s2r-tester"


def git_blob_oid(content: bytes) -> str:
    """The id git gives a blob: sha1 of `blob <size>\\0<content>`."""
    return hashlib.sha1(b"blob %d\x00" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class StoredFile:
    content: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def oid(self) -> str:
        """The git object id: of the content for a regular file, of the pointer file for an LFS file."""
        if self.lfs:
            return git_blob_oid(lfs_pointer(self.sha256, len(self.content)))
        return git_blob_oid(self.content)

    def tree_entry(self, path: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "oid": self.oid, "size": len(self.content), "path": path}
        if self.lfs:
            pointer = lfs_pointer(self.sha256, len(self.content))
            entry["lfs"] = {"oid": self.sha256, "size": len(self.content), "pointerSize": len(pointer)}
        return entry


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    author: str
    date: str
    files: dict[str, StoredFile]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    lfs_objects: dict[str, bytes] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/")[0]

    def resolve(self, revision: str) -> Commit | None:
        if revision in self.branches:
            return self.commits[self.branches[revision]]
        if re.fullmatch(r"[0-9a-f]{40}", revision) and revision in self.commits:
            return self.commits[revision]
        return None

    def history(self, revision: str) -> list[Commit]:
        commit = self.resolve(revision)
        out = []
        while commit is not None:
            out.append(commit)
            commit = self.commits.get(commit.parent) if commit.parent else None
        return out


@dataclass
class Fault:
    status: int
    path: str
    method: str | None
    remaining: int
    headers: dict[str, str]
    after: bool = False  # handle the request for real, then answer the fault (a response lost on the way back)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    user: str | None  # who the token belonged to; the token itself is never recorded
    status: int  # 0: the connection was dropped on purpose (HubServer.inject_disconnect); -1: the handler failed
    body_size: int


class HubError(Exception):
    """An HTTP error answer: status, message, and the `X-Error-Code` the clients dispatch on."""

    def __init__(self, status: int, message: str, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = extra or {}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubState:
    """Users, organizations and repos; every mutation happens under one lock."""

    def __init__(self, users: dict[str, str], orgs: dict[str, set[str]], org_readers: dict[str, set[str]]):
        self.lock = threading.RLock()
        self.tokens = dict(users)  # token -> user name
        self.user_names = set(users.values())
        self.orgs = {name: set(members) for name, members in orgs.items()}  # members who may write
        self.org_readers = {name: set(members) for name, members in org_readers.items()}  # members who may only read
        self.repos: dict[tuple[str, str], Repo] = {}
        self.pending_uploads: dict[str, tuple[str, str, str]] = {}  # upload id -> (repo type, repo id, sha256)
        self._commit_counter = 0

    def namespaces_of(self, user: str) -> set[str]:
        """The namespaces `user` may write to."""
        return {user} | {org for org, members in self.orgs.items() if user in members}

    def readable_namespaces_of(self, user: str) -> set[str]:
        """The namespaces whose private repos `user` may read."""
        return self.namespaces_of(user) | {org for org, members in self.org_readers.items() if user in members}

    def namespace_exists(self, namespace: str) -> bool:
        return namespace in self.user_names or namespace in self.orgs or namespace in self.org_readers

    def new_commit(
        self, repo: Repo, parent: Commit | None, files: dict[str, StoredFile], title: str, message: str, author: str
    ) -> Commit:
        self._commit_counter += 1
        digest = hashlib.sha1()
        digest.update(f"{repo.repo_type}/{repo.repo_id}\n{parent.oid if parent else ''}\n{title}\n{message}\n".encode())
        for path in sorted(files):
            digest.update(f"{path}\0{files[path].oid}\n".encode())
        digest.update(str(self._commit_counter).encode())
        commit = Commit(digest.hexdigest(), parent.oid if parent else None, title, message, author, _now(), files)
        repo.commits[commit.oid] = commit
        return commit

    def create_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=_now())
        initial = {".gitattributes": StoredFile(INITIAL_GITATTRIBUTES.encode(), lfs=False)}
        repo.branches["main"] = self.new_commit(repo, None, initial, "initial commit", "", author).oid
        self.repos[(repo_type, repo_id)] = repo
        return repo


def _upload_mode(path: str, size: int, files: dict[str, StoredFile]) -> str:
    patterns = list(LFS_PATTERNS)
    attributes = files.get(".gitattributes")
    if attributes is not None:
        for line in attributes.content.decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) > 1 and "filter=lfs" in parts[1:]:
                patterns.append(parts[0])
    name = path.rsplit("/", 1)[-1]
    if size > LFS_SIZE_THRESHOLD or any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns):
        return "lfs"
    return "regular"


def _card_data(files: dict[str, StoredFile]) -> dict[str, Any] | None:
    readme = files.get("README.md")
    if readme is None:
        return None
    text = readme.content.decode(errors="replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    if not match:
        return None
    loaded = yaml.safe_load(match.group(1))
    return loaded if isinstance(loaded, dict) else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # -- plumbing -----------------------------------------------------------------------------------------------------

    def log_message(self, *args: Any) -> None:
        return  # requests are recorded in HubServer.requests instead of stderr

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _caller(self) -> tuple[str | None, bool]:
        """(user, token_was_sent). An unknown token is (None, True)."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None, False
        return self.server.hub.state.tokens.get(header[len("Bearer ") :].strip()), True

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False) -> None:
        if getattr(self, "_swallow", False):  # the real answer of a request whose answer is replaced by a fault
            self._swallow = False
            return
        self._record(status)  # before answering: a client that got its answer finds the request in the log
        self.send_response(status)
        merged = {"Content-Type": "application/json", **(headers or {})}
        merged.setdefault("Content-Length", str(len(body)))
        for name, value in merged.items():
            self.send_header(name, value)
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _error(self, error: HubError, head: bool = False) -> None:
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        self._send(error.status, json.dumps({"error": error.message, **error.extra}).encode(), headers, head=head)

    def _record(self, status: int) -> None:
        if not self._logged:
            self._logged = True
            user, _ = self._caller()
            self.server.hub._log(LoggedRequest(self.command, self.path, user, status, self._body_size))

    def _handle(self, method: str) -> None:
        self._logged = False
        self._body_size = 0
        body = self._read_body()  # always drain: connections are kept alive
        self._body_size = len(body)
        split = urlsplit(self.path)
        hub = self.server.hub
        try:
            fault = hub._take_fault(method, split.path)
            if fault is not None and fault.status == 0:  # a dropped connection: no answer at all
                self._record(0)
                self.close_connection = True
            elif fault is not None:
                if fault.after:
                    self._swallow = True
                    # if the request fails for real, the client sees the injected fault all the same
                    with contextlib.suppress(HubError):
                        self._route(method, split.path, parse_qs(split.query), body)
                    self._swallow = False
                message = f"injected fault: {fault.status}"
                headers = {"X-Error-Message": message, **fault.headers}
                self._send(fault.status, json.dumps({"error": message}).encode(), headers, head=method == "HEAD")
            else:
                self._route(method, split.path, parse_qs(split.query), body)
        except HubError as error:
            self._error(error, head=method == "HEAD")
        finally:
            self._record(-1)  # only when no answer was sent: the handler failed (a bug in this server)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- access -------------------------------------------------------------------------------------------------------

    def _repo_for_read(self, repo_type: str, repo_id: str) -> Repo:
        state = self.server.hub.state
        user, token_sent = self._caller()
        if token_sent and user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        repo = state.repos.get((repo_type, repo_id))
        if repo is None or (
            repo.private and (user is None or repo.namespace not in state.readable_namespaces_of(user))
        ):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def _user_for_write(self) -> str:
        user, token_sent = self._caller()
        if user is None:
            if token_sent:
                raise HubError(401, "Invalid credentials in Authorization header")
            raise HubError(401, "You must be authenticated to write: send a token in the Authorization header")
        return user

    def _repo_for_write(self, repo_type: str, repo_id: str) -> tuple[Repo, str]:
        user = self._user_for_write()
        repo = self._repo_for_read(repo_type, repo_id)
        if repo.namespace not in self.server.hub.state.namespaces_of(user):
            raise HubError(403, f"You don't have the rights to write to {repo_id}: it belongs to {repo.namespace}")
        return repo, user

    @staticmethod
    def _commit_for(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # -- routing ------------------------------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        state = self.server.hub.state
        with state.lock:
            if path == "/api/whoami-v2" and method == "GET":
                return self._whoami()
            if path == "/api/repos/create" and method == "POST":
                return self._create_repo(json.loads(body or b"{}"))
            if path == "/api/validate-yaml" and method == "POST":
                return self._json(200, {"errors": [], "warnings": []})
            match = re.fullmatch(r"/api/(models|datasets|spaces)/([^/]+/[^/]+)(?:/(.*))?", path)
            if match:
                repo_type, repo_id, rest = REPO_TYPES[match.group(1)], unquote(match.group(2)), match.group(3)
                return self._api(method, repo_type, repo_id, rest or "", query, body)
            match = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+?)\.git/info/lfs/objects/batch", path)
            if match and method == "POST":
                return self._lfs_batch(REPO_TYPES.get(match.group(1) or "models"), unquote(match.group(2)), body)
            match = re.fullmatch(r"/lfs-upload/([0-9a-f]{32})", path)
            if match and method == "PUT":
                return self._lfs_put(match.group(1), body)
            match = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if match and method in ("GET", "HEAD"):
                repo_type = REPO_TYPES.get(match.group(1) or "models")
                return self._resolve(
                    method, repo_type, unquote(match.group(2)), unquote(match.group(3)), match.group(4)
                )
        raise HubError(404, f"no route for {method} {path} on the loopback Hub")

    def _api(self, method: str, repo_type: str, repo_id: str, rest: str, query: dict, body: bytes) -> None:
        if rest == "" and method == "GET":
            return self._repo_info(repo_type, repo_id, "main")
        if rest == "" and method == "DELETE":
            self._repo_for_write(repo_type, repo_id)
            del self.server.hub.state.repos[(repo_type, repo_id)]
            return self._json(200, {})
        head, _, tail = rest.partition("/")
        if head == "revision" and method == "GET":
            return self._repo_info(repo_type, repo_id, unquote(tail))
        if head == "refs" and method == "GET":
            return self._refs(repo_type, repo_id)
        if head == "tree" and method == "GET":
            revision, _, subpath = tail.partition("/")
            return self._tree(repo_type, repo_id, unquote(revision), unquote(subpath), query)
        if head == "paths-info" and method == "POST":
            return self._paths_info(repo_type, repo_id, unquote(tail), body)
        if head == "preupload" and method == "POST":
            return self._preupload(repo_type, repo_id, unquote(tail), json.loads(body or b"{}"))
        if head == "commit" and method == "POST":
            return self._commit(repo_type, repo_id, unquote(tail), body)
        if head == "commits" and method == "GET":
            return self._commits(repo_type, repo_id, unquote(tail))
        if head == "branch" and method == "POST":
            return self._create_branch(repo_type, repo_id, unquote(tail), json.loads(body or b"{}"))
        raise HubError(404, f"no route for {method} /api/{repo_type}s/{repo_id}/{rest} on the loopback Hub")

    # -- endpoints ----------------------------------------------------------------------------------------------------

    def _whoami(self) -> None:
        user = self._user_for_write()
        state = self.server.hub.state
        roles = {org: "read" for org in state.readable_namespaces_of(user) - {user}}
        roles.update({org: "write" for org in state.namespaces_of(user) - {user}})
        self._json(
            200,
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "orgs": [{"type": "org", "name": org, "roleInOrg": role} for org, role in sorted(roles.items())],
                "auth": {"type": "access_token", "accessToken": {"displayName": "loopback", "role": "write"}},
            },
        )

    def _create_repo(self, payload: dict[str, Any]) -> None:
        state = self.server.hub.state
        user = self._user_for_write()
        name, namespace = payload.get("name"), payload.get("organization") or user
        if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise HubError(400, f"Invalid repo name {name!r}")
        repo_type = payload.get("type") or "model"
        if not state.namespace_exists(namespace):
            raise HubError(404, f"Namespace {namespace} does not exist")
        if namespace not in state.namespaces_of(user):
            raise HubError(403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"')
        repo_id = f"{namespace}/{name}"
        if (repo_type, repo_id) in state.repos:
            url = f"{self._base()}/{URL_PREFIX[repo_type]}{repo_id}"
            raise HubError(409, "You already created this repo", extra={"url": url})
        private = bool(payload.get("private")) or payload.get("visibility") == "private"
        state.create_repo(repo_type, repo_id, private, user)
        self._json(200, {"url": f"{self._base()}/{URL_PREFIX[repo_type]}{repo_id}", "name": repo_id})

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _repo_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        commit = self._commit_for(repo, revision)
        siblings = [{"rfilename": path} for path in sorted(commit.files)]
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo.namespace,
            "sha": commit.oid,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
        }
        card = _card_data(commit.files)
        if card is not None:
            info["cardData"] = card
        self._json(200, info)

    def _refs(self, repo_type: str, repo_id: str) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        branches = [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": oid} for n, oid in repo.branches.items()]
        self._json(200, {"branches": branches, "converts": [], "tags": [], "pullRequests": []})

    def _create_branch(self, repo_type: str, repo_id: str, branch: str, payload: dict[str, Any]) -> None:
        repo, _ = self._repo_for_write(repo_type, repo_id)
        if branch in repo.branches:
            raise HubError(409, f"Branch {branch} already exists")
        start = self._commit_for(repo, payload.get("startingPoint") or "main")
        repo.branches[branch] = start.oid
        self._json(200, {})

    def _entries(self, commit: Commit, prefix: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
        prefix = prefix.strip("/")
        below = {p: f for p, f in commit.files.items() if not prefix or p.startswith(prefix + "/")}
        if prefix and not below:
            if prefix in commit.files:
                raise HubError(400, f"{prefix} is a file, not a folder")
            raise HubError(404, f"{prefix} does not exist at revision {commit.oid}", "EntryNotFound")
        entries: dict[str, dict[str, Any]] = {}
        for path, stored in below.items():
            relative = path[len(prefix) + 1 :] if prefix else path
            parts = relative.split("/")
            folders = [("/".join(parts[:i])) for i in range(1, len(parts))]
            if not recursive:
                folders = folders[:1]
            for folder in folders:
                full = f"{prefix}/{folder}" if prefix else folder
                entries.setdefault(full, {"type": "directory", "oid": git_blob_oid(full.encode()), "size": 0})
                entries[full]["path"] = full
            if recursive or len(parts) == 1:
                entries[path] = stored.tree_entry(path)
        out = [entries[p] for p in sorted(entries)]
        if expand:
            for entry in out:
                entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": commit.date}
        return out

    def _tree(self, repo_type: str, repo_id: str, revision: str, subpath: str, query: dict) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        commit = self._commit_for(repo, revision)
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        expand = query.get("expand", ["false"])[0].lower() in ("1", "true")
        self._json(200, self._entries(commit, subpath, recursive, expand))

    def _paths_info(self, repo_type: str, repo_id: str, revision: str, body: bytes) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        commit = self._commit_for(repo, revision)
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode())
            paths, expand = form.get("paths", []), form.get("expand", ["false"])[0].lower() in ("1", "true")
        out = []
        for path in paths:
            path = path.strip("/")
            if path in commit.files:
                entry = commit.files[path].tree_entry(path)
            elif any(p.startswith(path + "/") for p in commit.files) or path == "":
                entry = {"type": "directory", "oid": git_blob_oid(path.encode()), "size": 0, "path": path}
            else:
                continue
            if expand:
                entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": commit.date}
            out.append(entry)
        self._json(200, out)

    def _preupload(self, repo_type: str, repo_id: str, revision: str, payload: dict[str, Any]) -> None:
        repo, _ = self._repo_for_write(repo_type, repo_id)
        commit = self._commit_for(repo, revision)
        files = []
        for item in payload.get("files", []):
            path, size = item["path"], int(item["size"])
            mode = _upload_mode(path, size, commit.files)
            existing = commit.files.get(path)
            oid = None
            if existing is not None:
                oid = existing.sha256 if existing.lfs else git_blob_oid(existing.content)
            files.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": files, "commitOid": commit.oid})

    def _lfs_batch(self, repo_type: str, repo_id: str, body: bytes) -> None:
        repo, _ = self._repo_for_write(repo_type, repo_id)
        payload = json.loads(body or b"{}")
        if payload.get("operation") != "upload":
            raise HubError(400, f"only LFS uploads are supported, got operation {payload.get('operation')!r}")
        objects = []
        for obj in payload.get("objects", []):
            entry: dict[str, Any] = {"oid": obj["oid"], "size": int(obj["size"])}
            if obj["oid"] not in repo.lfs_objects:
                # Like the Hub's pre-signed storage URLs: the upload URL itself is the credential.
                upload_id = secrets.token_hex(16)
                self.server.hub.state.pending_uploads[upload_id] = (repo_type, repo_id, obj["oid"])
                href = f"{self._base()}/lfs-upload/{upload_id}"
                entry["actions"] = {"upload": {"href": href, "header": {}}}
            objects.append(entry)
        self._json(200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, upload_id: str, body: bytes) -> None:
        state = self.server.hub.state
        target = state.pending_uploads.pop(upload_id, None)
        if target is None:
            raise HubError(403, "unknown or already used upload URL; ask the LFS batch endpoint for a new one")
        repo_type, repo_id, sha256 = target
        repo = state.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        if hashlib.sha256(body).hexdigest() != sha256:
            state.pending_uploads[upload_id] = target
            raise HubError(400, f"uploaded content does not match sha256 {sha256}")
        repo.lfs_objects[sha256] = body
        self._send(200)

    def _commit(self, repo_type: str, repo_id: str, revision: str, body: bytes) -> None:
        state = self.server.hub.state
        repo, user = self._repo_for_write(repo_type, repo_id)
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision} (commits go to a branch)", "RevisionNotFound")
        head = repo.commits[repo.branches[revision]]
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first line of a commit must be its header")
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent and not head.oid.startswith(parent):
            raise HubError(412, f"A commit has happened since {parent}: the head of {revision} is now {head.oid}")
        files = dict(head.files)
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = value.get("path", "")
            if key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                files[path] = StoredFile(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                content = repo.lfs_objects.get(value.get("oid", ""))
                if content is None:
                    raise HubError(422, f"LFS object {value.get('oid')} for {path} was never uploaded")
                files[path] = StoredFile(content, lfs=True)
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise HubError(404, f"cannot delete {path}: not in {revision}", "EntryNotFound")
            elif key == "deletedFolder":
                for existing in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
                    del files[existing]
            else:
                raise HubError(400, f"unsupported commit operation {key!r}")
        commit = state.new_commit(
            repo, head, files, header.get("summary") or "", header.get("description") or "", author=user
        )
        repo.branches[revision] = commit.oid
        url = f"{self._base()}/{URL_PREFIX[repo_type]}{repo_id}/commit/{commit.oid}"
        self._json(200, {"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None})

    def _commits(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        self._commit_for(repo, revision)
        self._json(
            200,
            [
                {"id": c.oid, "title": c.title, "message": c.message, "authors": [{"user": c.author}], "date": c.date}
                for c in repo.history(revision)
            ],
        )

    def _resolve(self, method: str, repo_type: str, repo_id: str, revision: str, raw_path: str) -> None:
        repo = self._repo_for_read(repo_type, repo_id)
        commit = self._commit_for(repo, revision)
        path = unquote(raw_path)
        stored = commit.files.get(path)
        if stored is None:
            raise HubError(404, f"Entry not found: {path} at {revision}", "EntryNotFound")
        content = stored.content
        etag = stored.sha256 if stored.lfs else stored.oid
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Repo-Commit": commit.oid,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
        }
        status = 200
        range_header = self.headers.get("Range")
        if range_header:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if not match or (not match.group(1) and not match.group(2)):
                raise HubError(416, f"unsupported Range {range_header!r}")
            size = len(content)
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                start, end = max(0, size - int(match.group(2))), size - 1
            if start >= size or start > end:
                headers["Content-Range"] = f"bytes */{size}"
                raise HubError(416, f"Range {range_header!r} not satisfiable for {size} bytes")
            content = content[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            status = 206
        self._send(status, content, headers, head=method == "HEAD")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hub: HubServer


class HubServer:
    """The loopback Hub, serving on 127.0.0.1:`port` from `start()` to `stop()`.

    `users` maps tokens to user names; `orgs` maps organization names to their members with write access, `org_readers`
    to members who may only read. Every user and organization is a namespace; writing to a namespace the caller may not
    write to is answered 403, to one that does not exist 404.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        users: dict[str, str] | None = None,
        orgs: dict[str, set[str]] | None = None,
        org_readers: dict[str, set[str]] | None = None,
    ):
        users = (
            users if users is not None else {DEFAULT_TOKEN: DEFAULT_USER, "hf_token_of_someone_else": "someone-else"}
        )
        orgs = orgs if orgs is not None else {"s2r": {DEFAULT_USER}, "other-org": {"someone-else"}}
        org_readers = org_readers if org_readers is not None else {"read-only-org": {DEFAULT_USER}}
        self.state = HubState(users, orgs, org_readers)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._faults: list[Fault] = []
        self._requests: list[LoggedRequest] = []
        self._log_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------------------------

    def start(self) -> HubServer:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.hub = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="loopback-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the loopback Hub is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- test controls ------------------------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int,
        path: str,
        *,
        method: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next `times` requests whose URL path contains `path` (and uses `method`, if given): `status`.

        With `after=True` the request is carried out first (a commit lands) and only its answer is replaced, like a
        gateway timeout on the way back.
        """
        if status < 400:
            raise ValueError(f"a fault is an error status (>= 400), got {status}")
        method = method.upper() if method else None
        with self._log_lock:
            self._faults.append(Fault(status, path, method, times, dict(headers or {}), after))

    def inject_disconnect(self, path: str, *, method: str | None = None, times: int = 1) -> None:
        """Close the connection without answering the next `times` requests whose URL path contains `path`."""
        with self._log_lock:
            self._faults.append(Fault(0, path, method.upper() if method else None, times, {}))

    def clear_faults(self) -> None:
        with self._log_lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._log_lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.path in path and fault.method in (None, method):
                    fault.remaining -= 1
                    return fault
        return None

    def _log(self, request: LoggedRequest) -> None:
        with self._log_lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget repos, faults and the request log (users and organizations stay)."""
        with self.state.lock:
            self.state.repos.clear()
        self.clear_faults()
        self.clear_requests()

    # -- inspection and seeding ---------------------------------------------------------------------------------------

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        with self.state.lock:
            repo = self.state.repos.get((repo_type, repo_id))
            if repo is None:
                raise KeyError(
                    f"no {repo_type} repo {repo_id!r} on the loopback Hub; it has {sorted(self.state.repos)}"
                )
            return repo

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        """The files of `repo_id` at `revision`, path -> content."""
        with self.state.lock:
            commit = self.repo(repo_id, repo_type).resolve(revision)
            if commit is None:
                raise KeyError(f"no revision {revision!r} in {repo_id!r}")
            return {path: stored.content for path, stored in commit.files.items()}

    def commits(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> list[Commit]:
        """The commits of `revision`, newest first (the repo's initial commit last)."""
        with self.state.lock:
            return self.repo(repo_id, repo_type).history(revision)

    def all_stored_bytes(self) -> list[bytes]:
        """Every file of every commit and every LFS object the server holds."""
        with self.state.lock:
            out = []
            for repo in self.state.repos.values():
                out.extend(repo.lfs_objects.values())
                for commit in repo.commits.values():
                    out.extend(stored.content for stored in commit.files.values())
                    out.append(f"{commit.title}\n{commit.message}".encode())
            return out

    def seed_repo(
        self, repo_id: str, *, owner: str, repo_type: str = "dataset", private: bool = False, files: dict | None = None
    ) -> Repo:
        """Create a repo directly (e.g. one owned by someone else), optionally with a first commit of `files`."""
        with self.state.lock:
            repo = self.state.create_repo(repo_type, repo_id, private, owner)
            if files:
                head = repo.commits[repo.branches["main"]]
                stored = dict(head.files)
                for path, content in files.items():
                    stored[path] = StoredFile(content, lfs=_upload_mode(path, len(content), head.files) == "lfs")
                repo.branches["main"] = self.state.new_commit(repo, head, stored, "seed", "", owner).oid
            return repo
