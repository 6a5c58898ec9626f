"""cProfile of our server's side of in-memory handshakes (rust provider by default).

    python3 bench/profile_server.py [HANDSHAKES] [--case tls13|tls12-ecdhe|tls12-rsa] [--impl P]

Prints the server's own time per handshake, grouped by engine file, pyca's asymmetric
calls, the core, and other builtins (see ``handshake_profile.py``).
"""

from handshake_profile import main

if __name__ == "__main__":
    main("server")
