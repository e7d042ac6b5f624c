"""Print the first port from PORT on (up to PORT + 20) that HOST can bind: `make run` serves
there and says so when PORT itself is taken (another `make run`, another project)."""

import socket
import sys


def main(host: str, port: int) -> int:
    for candidate in range(port, port + 21):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            try:
                sock.bind((host.strip("[]"), candidate))
            except OSError:
                continue
        if candidate != port:
            print(f"Port {port} is in use: serving on {candidate} instead.", file=sys.stderr)
        print(candidate)
        return 0
    print(f"make run: ports {port} to {port + 20} are all in use; try PORT=...", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
