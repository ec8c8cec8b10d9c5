"""A tiny IMAP4rev1 responder for the tests: LOGIN, EXAMINE/SELECT, UID SEARCH, UID FETCH
(RFC822.SIZE, BODY.PEEK[], BODY.PEEK[HEADER]), NOOP, CAPABILITY, LOGOUT (RFC 3501).

It is the fake at the external port: Voronka's own imaplib code talks to it over a real
socket. Bound before it serves, so clients never wait for it to start.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field

_COMMAND = re.compile(rb"^(\S+) (?:UID )?(\S+)(?: (.*))?$", re.IGNORECASE)


@dataclass
class Mailbox:
    user: str = "leads@shop.example"
    password: str = "imap-pass-0001"
    folder: str = "INBOX"
    uid_validity: int = 1
    messages: dict[int, bytes] = field(default_factory=dict)  # UID → raw message
    commands: list[str] = field(default_factory=list)  # what the client sent (no passwords)

    def add(self, raw: bytes) -> int:
        uid = max(self.messages, default=0) + 1
        self.messages[uid] = raw
        return uid


class _Handler(socketserver.StreamRequestHandler):
    box: Mailbox

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self.send(b"* OK fake IMAP4rev1 ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            match = _COMMAND.match(line.rstrip(b"\r\n"))
            if match is None:
                self.send(b"* BAD unreadable command")
                continue
            tag, command, args = match.group(1), match.group(2).upper(), match.group(3) or b""
            is_uid = b" UID " in line.upper()[: len(tag) + 6]
            self.box.commands.append(command.decode() if command != b"LOGIN" else "LOGIN")
            if not self.dispatch(tag, command, args, is_uid):
                return

    def dispatch(self, tag: bytes, command: bytes, args: bytes, is_uid: bool) -> bool:
        box = self.box
        if command == b"CAPABILITY":
            self.send(b"* CAPABILITY IMAP4rev1")
        elif command == b"LOGIN":
            user, password = [a.strip(b'"').decode() for a in args.split(b" ", 1)]
            if (user, password) != (box.user, box.password):
                self.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials")
                return True
        elif command in (b"EXAMINE", b"SELECT"):
            if args.strip(b'"').decode() != box.folder:
                self.send(tag + b" NO no such folder")
                return True
            self.send(b"* %d EXISTS" % len(box.messages))
            self.send(b"* OK [UIDVALIDITY %d] UIDs valid" % box.uid_validity)
            self.send(tag + b" OK [READ-ONLY] EXAMINE completed")
            return True
        elif command == b"SEARCH" and is_uid:
            self.send(b"* SEARCH " + b" ".join(b"%d" % u for u in self.search(args)))
        elif command == b"FETCH" and is_uid:
            self.fetch(args)
        elif command == b"LOGOUT":
            self.send(b"* BYE logging out")
            self.send(tag + b" OK LOGOUT completed")
            return False
        elif command != b"NOOP":
            self.send(tag + b" BAD unknown command")
            return True
        self.send(tag + b" OK " + command + b" completed")
        return True

    def search(self, args: bytes) -> list[int]:
        """``UID n:*``: every UID ≥ n, or the highest one when none is (RFC 3501 6.4.8)."""
        low = int(re.search(rb"UID (\d+):\*", args).group(1))  # type: ignore[union-attr]
        uids = sorted(self.box.messages)
        found = [u for u in uids if u >= low]
        return found or uids[-1:]

    def fetch(self, args: bytes) -> None:
        uid_text, _, what = args.partition(b" ")
        uid = int(uid_text)
        raw = self.box.messages.get(uid)
        if raw is None:
            return
        seq = sorted(self.box.messages).index(uid) + 1
        if b"RFC822.SIZE" in what:
            self.send(b"* %d FETCH (UID %d RFC822.SIZE %d)" % (seq, uid, len(raw)))
            return
        section, data = b"BODY[]", raw
        if b"HEADER" in what:
            section, data = b"BODY[HEADER]", raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        self.wfile.write(b"* %d FETCH (UID %d %s {%d}\r\n" % (seq, uid, section, len(data)))
        self.wfile.write(data + b")\r\n")


class FakeImapServer:
    """Serve ``box`` on 127.0.0.1 on a free port until :meth:`close`."""

    def __init__(self, box: Mailbox) -> None:
        handler = type("Handler", (_Handler,), {"box": box})
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
