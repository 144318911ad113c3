#!/usr/bin/env python3
"""Raw HTTP/1.1 and WebSocket clients for test/e2e/50_proxy_test.sh (via proxy_lib.sh).

  proxy_client.py count PORT HOST PATH N [-H 'name: value'] ...
      N requests over keep-alive connections; prints "<x-backend> <count>" per backend, sorted,
      and "status-NNN <count>" for answers other than 2xx. "{i}" in a header value is replaced
      by the request's index (0..N-1), e.g. -H 'x-user: u{i}'.
  proxy_client.py raw PORT PAYLOAD [--wait SECONDS] [--chunks N --pause SECONDS]
      Sends PAYLOAD (Python escapes: \\r \\n \\x00) on a new connection in one write (or in N
      pieces with a pause between them), then prints everything it receives until the peer
      closes or WAIT seconds pass, then "--- closed" (EOF), "--- reset" (ECONNRESET) or
      "--- open" (still open at the deadline).
  proxy_client.py slowloris PORT HOST INTERVAL
      Trickles a request head one byte every INTERVAL seconds; prints "<status> <seconds from
      the first byte to the answer> <closed|open|reset>" once the proxy answers or closes.
  proxy_client.py ws PORT HOST PATH MESSAGE
      WebSocket handshake, one masked text frame, prints the echoed text and the handshake's
      status line; sends a close frame. MESSAGE "-": read it from stdin.
"""
import base64
import codecs
import hashlib
import http.client
import os
import select
import socket
import struct
import sys
import time


def read_until_close(sock, deadline):
    """Everything the peer sends until EOF, reset or the deadline: (bytes, "closed|reset|open")."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, "open"
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "closed"
        data += chunk


def cmd_count(args):
    port, host, path, n = int(args[0]), args[1], args[2], int(args[3])
    headers = []
    rest = args[4:]
    while rest:
        if rest[0] != "-H" or len(rest) < 2:
            sys.exit("count: unexpected argument %r" % rest[0])
        name, _, value = rest[1].partition(":")
        headers.append((name.strip(), value.strip()))
        rest = rest[2:]
    counts = {}
    conn = None
    for i in range(n):
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", host)
                for name, value in headers:
                    conn.putheader(name, value.replace("{i}", str(i)))
                conn.endheaders()
                resp = conn.getresponse()
                resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed between requests: once more, fresh.
                conn.close()
                conn = None
                if attempt == 1:
                    raise
        key = resp.getheader("x-backend") or "none"
        if not 200 <= resp.status < 300:
            key = "status-%d" % resp.status
        counts[key] = counts.get(key, 0) + 1
        if resp.will_close:
            conn.close()
            conn = None
    for key in sorted(counts):
        print(key, counts[key])


def cmd_raw(args):
    port = int(args[0])
    payload = codecs.decode(args[1], "unicode_escape").encode("latin-1")
    wait, chunks, pause = 3.0, 1, 0.0
    rest = args[2:]
    while rest:
        if rest[0] == "--wait":
            wait = float(rest[1])
        elif rest[0] == "--chunks":
            chunks = int(rest[1])
        elif rest[0] == "--pause":
            pause = float(rest[1])
        else:
            sys.exit("raw: unexpected argument %r" % rest[0])
        rest = rest[2:]
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    size = -(-len(payload) // chunks)
    try:
        for k in range(chunks):
            if k and pause:
                time.sleep(pause)
            sock.sendall(payload[k * size:(k + 1) * size])
    except (BrokenPipeError, ConnectionResetError):
        pass  # the proxy may close before it has read it all: what it answered is below
    data, end = read_until_close(sock, time.monotonic() + wait)
    sys.stdout.write(data.decode("latin-1"))
    if data and not data.endswith(b"\n"):
        sys.stdout.write("\n")
    print("---", end)
    sock.close()


def cmd_slowloris(args):
    port, host, interval = int(args[0]), args[1], float(args[2])
    head = ("GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: %s\r\n\r\n" % (host, "a" * 200)).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()
    data = b""
    end = "open"
    for byte in head:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            end = "reset"
            break
        ready, _, _ = select.select([sock], [], [], interval)
        if ready:
            data, end = read_until_close(sock, time.monotonic() + 2)
            break
    elapsed = time.monotonic() - start
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"
    print(status, "%.2f" % elapsed, end)


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def recv_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("ws: connection closed after %d bytes" % len(buf))
        buf += chunk
    return buf


def cmd_ws(args):
    port, host, path, message = int(args[0]), args[1], args[2], args[3]
    if message == "-":
        message = sys.stdin.read()
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                  % (path, host, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("ws: closed during the handshake: %r" % buf)
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    print(lines[0])
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
              for l in lines[1:] if ":" in l}
    print("accept-ok" if fields.get("sec-websocket-accept") == accept else "accept-bad")
    sock.sendall(ws_frame(0x1, message.encode()))
    buf = recv_exact(sock, buf, 2)
    opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
    if buf[1] & 0x80:
        raise SystemExit("ws: the server masked its frame")
    offset = 2
    if n == 126:
        buf = recv_exact(sock, buf, 4)
        n, offset = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        buf = recv_exact(sock, buf, 10)
        n, offset = struct.unpack("!Q", buf[2:10])[0], 10
    buf = recv_exact(sock, buf, offset + n)
    print("opcode", opcode)
    print(buf[offset:offset + n].decode())
    sock.sendall(ws_frame(0x8, struct.pack("!H", 1000)))
    sock.close()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    commands = {"count": cmd_count, "raw": cmd_raw, "slowloris": cmd_slowloris, "ws": cmd_ws}
    if sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
