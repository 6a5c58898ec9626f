"""cProfile of our client's side of in-memory handshakes (rust provider by default).

    python3 bench/profile_client.py [HANDSHAKES] [--case tls13|tls12-ecdhe|tls12-rsa] [--impl P]

The counterpart of ``profile_server.py`` (see ``handshake_profile.py``).
"""

from handshake_profile import main

if __name__ == "__main__":
    main("client")
