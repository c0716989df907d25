"""A real Dovecot IMAP server for tests and benchmarks, on loopback, in a temp dir.

`DovecotServer` writes its own configuration (its own `base_dir`, `state_dir`,
logs, passwd file and Maildir homes), starts Debian's `dovecot` binary on a free
127.0.0.1 port as the current user, and never touches the system instance.
Plaintext login is allowed without TLS; `tls=True` adds a self-signed
certificate generated at start, STARTTLS on the plain port and an implicit-TLS
port. Helpers add users, APPEND through real IMAP, seed large Maildirs directly
(then `doveadm force-resync`) and force UIDVALIDITY changes.

Use it from pytest as a plugin (`pytest_plugins = ["tests.servers.dovecot"]`,
or re-export the fixtures from a conftest), or without pytest:

    with DovecotServer() as server:
        user = server.add_user("alice", "secret")
        server.append(user, "INBOX", raw_bytes)
"""

from __future__ import annotations

import contextlib
import datetime
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

DEFAULT_FOLDERS = ("Sent", "Drafts", "Trash", "Archive")
"""Created for every user by `add_user` unless told otherwise; all SPECIAL-USE."""

LOCALISED_SENT = "Éléments envoyés"
"""A localised Sent folder that Dovecot flags \\Sent (exercises modified UTF-7)."""

_counter = itertools.count(1)


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed and cannot be installed here."""


@dataclass(frozen=True, slots=True)
class DovecotUser:
    name: str
    password: str

    @property
    def home(self) -> str:
        return self.name


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def dovecot_binary() -> str | None:
    for candidate in (shutil.which("dovecot"), "/usr/sbin/dovecot"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def doveadm_binary() -> str | None:
    for candidate in (shutil.which("doveadm"), "/usr/bin/doveadm"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_dovecot() -> tuple[str, str]:
    """Paths of `dovecot` and `doveadm`, installing `dovecot-imapd` when root and missing."""
    if (dovecot_binary() is None or doveadm_binary() is None) and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
    binary, admin = dovecot_binary(), doveadm_binary()
    if binary is None or admin is None:
        raise DovecotUnavailable(
            "Dovecot is not installed (Debian package dovecot-imapd) and this user "
            "cannot install it; install it or run the tests as root"
        )
    return binary, admin


def dovecot_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    head = out.stdout.split()[0]
    return tuple(int(part) for part in head.split(".")[:3] if part.isdigit())


def encode_mutf7(name: str) -> str:
    """RFC 3501 modified UTF-7, as Dovecot names Maildir folders on disk."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            import base64

            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _self_signed(cert_path: Path, key_path: Path) -> None:
    """A self-signed certificate for localhost and 127.0.0.1 (cryptography or openssl)."""
    try:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key_path), "-out", str(cert_path)],
            check=True, capture_output=True,
        )  # fmt: skip
        return
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class DovecotServer:
    """One private Dovecot instance. Start/stop/restart; also a context manager."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        tls: bool = False,
        oauth2_introspection_url: str | None = None,
    ) -> None:
        self.binary, self.doveadm_path = ensure_dovecot()
        self.version = dovecot_version(self.binary)
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="loggbok-dovecot-")) if root is None else root
        self.tls = tls
        self.oauth2_introspection_url = oauth2_introspection_url
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.config_path = self.root / "dovecot.conf"
        self.passwd_path = self.root / "passwd.d"
        self.log_path = self.root / "dovecot.log"
        self.homes = self.root / "home"
        self.cert_path = self.root / "cert.pem"
        self.key_path = self.root / "key.pem"
        self.users: dict[str, DovecotUser] = {}
        self._running = False
        # Mail is owned by the current user, or by an unprivileged account when root.
        self.mail_ids = (
            (os.getuid(), os.getgid())
            if os.getuid() != 0
            else _first_account("dovecot", "nobody")[1:]
        )

    # lifecycle -----------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.cleanup()

    @property
    def imap_url(self) -> str:
        return f"imap://{self.host}:{self.port}"

    @property
    def imaps_url(self) -> str:
        return f"imaps://{self.host}:{self.tls_port}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this server's self-signed certificate."""
        if not self.tls:
            raise RuntimeError("this DovecotServer was started without tls=True")
        return ssl.create_default_context(cafile=str(self.cert_path))

    def start(self, timeout: float = 20.0) -> None:
        if self._running:
            return
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            self.root.chmod(0o755)
            os.chown(self.homes, *self.mail_ids)
        self.passwd_path.mkdir(exist_ok=True)
        if self.tls and not self.cert_path.exists():
            _self_signed(self.cert_path, self.key_path)
            self.key_path.chmod(0o600)
        self.config_path.write_text(self._config(), encoding="utf-8")
        # The daemonised master inherits our stdio: hand it a file, never a pipe we wait on.
        with open(self.root / "dovecot.stderr", "w+b") as err:
            code = subprocess.call(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
            )  # fmt: skip
            err.seek(0)
            output = err.read().decode(errors="replace")
        if code != 0:
            raise RuntimeError(f"dovecot did not start: {output}{self._log_tail()}")
        self._running = True
        self._wait_listening(timeout)

    def stop(self, timeout: float = 20.0) -> None:
        if not self._running:
            return
        self._running = False
        pid = self._master_pid()
        if pid is None:
            return
        sessions = _children(pid)  # imap and login processes: clients' connections
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # what `dovecot stop` does, without its extra wait
        deadline = time.monotonic() + timeout
        while pid is not None and _alive(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        # The master signals its children and may leave before they do: a stopped
        # server has no session left that could still answer a client.
        deadline = time.monotonic() + timeout
        while any(_alive(child) for child in sessions) and time.monotonic() < deadline:
            time.sleep(0.02)
        # The master is gone once its pid file is; wait for the port to be free too.
        deadline = time.monotonic() + timeout
        while _listening(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def _master_pid(self) -> int | None:
        try:
            return int((self.root / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.tls_port] if self.tls else [])
        while not all(_listening(self.host, port) for port in ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot is not listening on {ports}{self._log_tail()}")
            time.sleep(0.02)

    def _log_tail(self) -> str:
        try:
            return "\n--- dovecot.log ---\n" + "\n".join(
                self.log_path.read_text(errors="replace").splitlines()[-30:]
            )
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # configuration ---------------------------------------------------------------

    def _config(self) -> str:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        login_user = user
        if os.getuid() == 0:
            # Dovecot refuses root for login processes and for mail access.
            login_user = _first_account("dovenull", "nobody")[0]
        mail_uid, mail_gid = self.mail_ids
        new_names = self.version >= (2, 4)
        cleartext = "auth_allow_cleartext = yes" if new_names else "disable_plaintext_auth = no"
        mechanisms = "plain login"
        oauth = ""
        if self.oauth2_introspection_url is not None:
            mechanisms += " xoauth2 oauthbearer"
            oauth_conf = self.root / "oauth2.conf.ext"
            oauth_conf.write_text(
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "introspection_mode = post\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
                "tokeninfo_url = \n",
                encoding="utf-8",
            )
            oauth = (
                "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {oauth_conf}\n}}\n"
            )
        if self.tls:
            ssl_conf = f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.key_path}\n"
        else:
            ssl_conf = "ssl = no\n"
        mailboxes = "".join(
            f'  mailbox "{name}" {{\n    special_use = \\{use}\n  }}\n'
            for name, use in (
                ("Sent", "Sent"),
                ("Drafts", "Drafts"),
                ("Trash", "Trash"),
                ("Archive", "Archive"),
                (LOCALISED_SENT, "Sent"),
            )
        )
        return f"""# Written by tests/servers/dovecot.py; a private test instance.
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = loggbok-test-{os.getpid()}-{next(_counter)}
protocols = imap
listen = 127.0.0.1
log_path = {self.log_path}
info_log_path = {self.log_path}
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = {min(mail_uid, 100)}
first_valid_gid = {min(mail_gid, 100)}
mail_location = maildir:~/Maildir
{cleartext}
auth_mechanisms = {mechanisms}
auth_verbose = yes
# Tests log in with wrong passwords on purpose: no failure delay, no per-IP penalty.
auth_failure_delay = 0
{ssl_conf}
protocol imap {{
  mail_max_userip_connections = 200
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_path}/%u
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={self.homes}/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
"""

    def _write_passwd(self, user: DovecotUser) -> None:
        # One file per user: Dovecot caches an open passwd-file and may miss quick rewrites.
        self.passwd_path.mkdir(exist_ok=True)
        path = self.passwd_path / user.name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{user.name}:{{PLAIN}}{user.password}::::::\n", encoding="utf-8")
        os.replace(tmp, path)

    # users and mail ------------------------------------------------------------------

    def add_user(
        self,
        name: str | None = None,
        password: str | None = None,
        folders: Iterable[str] = DEFAULT_FOLDERS,
    ) -> DovecotUser:
        """Create a user (unique name when none is given) with the given folders."""
        n = next(_counter)
        user = DovecotUser(name or f"user{n}", password or f"pw-{n}-secret")
        if user.name in self.users:
            raise ValueError(f"user {user.name} exists")
        self.users[user.name] = user
        (self.homes / user.name).mkdir(parents=True, exist_ok=True)
        os.chown(self.homes / user.name, *self.mail_ids)
        self._write_passwd(user)
        self.status(user, "INBOX", "messages")  # Dovecot creates the Maildir as the mail user
        for folder in folders:
            self.create_folder(user, folder)
        return user

    def set_password(self, user: DovecotUser, password: str) -> DovecotUser:
        """Change a user's password; returns once Dovecot refuses the old one.

        Dovecot's passwd-file driver notices a rewritten file only at its next
        stat check, so a login in the same instant can still pass with the old
        password: waiting here keeps "changed, then kicked" deterministic.
        """
        changed = DovecotUser(user.name, password)
        self.users[user.name] = changed
        self._write_passwd(changed)
        deadline = time.monotonic() + 30
        while self._login_passes(user) and time.monotonic() < deadline:
            time.sleep(0.2)
        return changed

    def _login_passes(self, user: DovecotUser) -> bool:
        with imaplib.IMAP4(self.host, self.port) as conn:
            try:
                conn.login(user.name, user.password)
            except imaplib.IMAP4.error:
                return False
            return True

    def doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [self.doveadm_path, "-c", str(self.config_path), *args],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def kick(self, user: DovecotUser) -> None:
        """Drop the user's open sessions; none open (doveadm exits 68) is no error."""
        result = subprocess.run(
            [self.doveadm_path, "-c", str(self.config_path), "kick", user.name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode not in (0, 68):
            raise RuntimeError(f"doveadm kick {user.name} failed: {result.stderr.strip()}")

    def create_folder(self, user: DovecotUser, folder: str) -> None:
        self.doveadm("mailbox", "create", "-u", user.name, folder)

    def recreate_folder(self, user: DovecotUser, folder: str) -> None:
        """Force a new UIDVALIDITY: delete and recreate (INBOX: set a new UIDVALIDITY)."""
        if folder.upper() == "INBOX":
            self.change_uidvalidity(user, folder)
            return
        self.doveadm("mailbox", "delete", "-u", user.name, folder)
        self.doveadm("mailbox", "create", "-u", user.name, folder)

    def change_uidvalidity(self, user: DovecotUser, folder: str) -> int:
        """Give a folder a new UIDVALIDITY, keeping its messages. Returns the new value."""
        current = int(self.status(user, folder, "uidvalidity"))
        new = current + 1000
        self.doveadm("mailbox", "update", "-u", user.name, "--uid-validity", str(new), folder)
        return new

    def status(self, user: DovecotUser, folder: str, field: str) -> str:
        """One `doveadm mailbox status` field (messages, uidnext, uidvalidity, ...)."""
        return self.doveadm("-f", "flow", "mailbox", "status", "-u", user.name, field, folder)\
            .strip().split("=", 1)[-1]  # fmt: skip

    def maildir_path(self, user: DovecotUser, folder: str) -> Path:
        root = self.homes / user.name / "Maildir"
        if folder.upper() == "INBOX":
            return root
        return root / ("." + encode_mutf7(folder).replace("/", "."))

    def connect(self, user: DovecotUser) -> imaplib.IMAP4:
        """A logged-in imaplib client (the caller logs out)."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=30)
        imap.login(user.name, user.password)
        return imap

    def append(
        self,
        user: DovecotUser,
        folder: str,
        raw: bytes,
        flags: str = "",
        date: datetime.datetime | None = None,
    ) -> None:
        """APPEND one message over real IMAP, as a mail client or MTA would."""
        imap = self.connect(user)
        try:
            when = imaplib.Time2Internaldate(date) if date is not None else None
            typ, data = imap.append(_quote_mailbox(folder), flags or None, when, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            with contextlib.suppress(Exception):
                imap.logout()

    def seed_maildir(self, user: DovecotUser, folder: str, messages: Iterable[bytes]) -> int:
        """Write messages straight into the folder's Maildir, then let Dovecot index them."""
        if folder.upper() != "INBOX" and not self.maildir_path(user, folder).exists():
            self.create_folder(user, folder)
        target = self.maildir_path(user, folder)
        chown = (os.getuid(), os.getgid()) != self.mail_ids
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
            if chown:
                os.chown(target / sub, *self.mail_ids)
        stamp = int(time.time())
        count = 0
        for i, raw in enumerate(messages):
            name = f"{stamp}.M{i}P{os.getpid()}Q{next(_counter)}.loggbok-seed,S={len(raw)}:2,"
            path = target / "cur" / name
            path.write_bytes(raw)
            if chown:
                os.chown(path, *self.mail_ids)
            count += 1
        self.doveadm("force-resync", "-u", user.name, folder)
        return count

    def message_count(self, user: DovecotUser, folder: str) -> int:
        return int(self.status(user, folder, "messages"))


def _quote_mailbox(name: str) -> str:
    encoded = encode_mutf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_account(*names: str) -> tuple[str, int, int]:
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_name, entry.pw_uid, entry.pw_gid
    raise DovecotUnavailable(f"none of the accounts {names} exists to run Dovecot as")


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc)."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a busy init to reap it counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def make_message(
    n: int,
    *,
    sender: str = "kund@example.com",
    to: str = "saljare@example.org",
    subject: str | None = None,
    in_reply_to: str | None = None,
    body: str = "Hej!\r\n",
    domain: str = "seed.example",
) -> bytes:
    """A small well-formed message with Message-ID `<n.<domain>@loggbok.test>`."""
    headers = [
        f"Message-ID: <{n}.{domain}@loggbok.test>",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject if subject is not None else f'Message {n}'}",
        "Date: Mon, 02 Jun 2025 10:00:00 +0200",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


# pytest fixtures -------------------------------------------------------------------


def _start_or_skip(**kwargs: bool) -> DovecotServer:
    try:
        server = DovecotServer(**kwargs)  # type: ignore[arg-type]
    except DovecotUnavailable as exc:
        pytest.skip(str(exc))
    server.start()
    return server


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A plaintext (no TLS) Dovecot shared by the session; add a user per test."""
    server = _start_or_skip()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[DovecotServer]:
    """A Dovecot with a self-signed certificate: STARTTLS on `port`, TLS on `tls_port`."""
    server = _start_or_skip(tls=True)
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()
