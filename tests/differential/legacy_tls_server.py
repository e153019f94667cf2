"""A TLS 1.2 server on 127.0.0.1 that takes only the cipher suites given (OpenSSL names), for
the tests of which client gets through a server netpeel's TLS library cannot talk to.

Usage: legacy_tls_server.py CIPHERS   (prints the port it listens on, then serves until killed)
Every connection gets 'HTTP/1.1 200 OK' after its request line. Loopback only.
"""
import os
import socket
import ssl
import sys
import threading

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "legacy-tls")


def serve(ctx, conn):
    try:
        conn.settimeout(5)
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.recv(4096)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        tls.close()
    except (OSError, ssl.SSLError):
        conn.close()


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(HERE, "cert.pem"), os.path.join(HERE, "key.pem"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(sys.argv[1])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    for _ in range(200):  # bounded: the tests make a handful of connections
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(ctx, conn), daemon=True).start()


if __name__ == "__main__":
    main()
