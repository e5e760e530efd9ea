#!/usr/bin/python3
"""A small HTTP CONNECT proxy for the helper's proxy tests (standard library only).

    connect_proxy.py DIR

Listens on 127.0.0.1 at a port the kernel picks, writes it to DIR/port once listening (the test waits for
that file), appends each CONNECT target ("host:port") to DIR/connects as a line before tunnelling, and then
copies bytes both ways: the TLS inside the tunnel runs end to end between the helper and the stand-in.
Anything but CONNECT is answered 405. Ends on SIGTERM.
"""
import os
import select
import signal
import socket
import sys
import threading


def tunnel(a, b):
    sockets = [a, b]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 60)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def serve(client, log_path, lock):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk or len(head) > 65536:
                client.close()
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or parts[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        target = parts[1]
        with lock, open(log_path, "a", encoding="ascii") as log:
            log.write(target + "\n")
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        tunnel(client, upstream)
    except OSError:
        client.close()


def main():
    directory = sys.argv[1]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(socket.SOMAXCONN)
    lock = threading.Lock()
    log_path = os.path.join(directory, "connects")
    open(log_path, "w", encoding="ascii").close()
    tmp = os.path.join(directory, "port.tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, os.path.join(directory, "port"))
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, log_path, lock), daemon=True).start()


if __name__ == "__main__":
    main()
