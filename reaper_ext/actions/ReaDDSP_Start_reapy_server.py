# @description ReaDDSP: Start reapy server (loopback only)
# @version 0.1.0
# @author ReaDDSP
# @about Serves reapy's remote API to the ReaDDSP engine on 127.0.0.1 only, and keeps serving when a client dies
#   mid-call. The engine runs this action itself through REAPER's web interface when no reapy server is up.
"""reapy's server loop, hardened: loopback only, and one dead client never stops it.

reapy's own `activate_reapy_server` binds 0.0.0.0, and its loop ends (REAPER stops re-deferring it) as soon
as a client dies while holding the server: the send to the closed socket raises an error it does not catch.
This one keeps reapy's wire protocol and request handling, and changes only those two things.
"""

import os
import socket
import traceback

import reapy
from reapy.tools.network import Server
from reapy.tools.network.socket import Socket

HOST = "127.0.0.1"
PORT = int(os.environ.get("READDSP_REAPY_SERVER_PORT", reapy.config.REAPY_SERVER_PORT))


class LoopbackServer(Server):
    """reapy's `Server` on 127.0.0.1 that drops a client whose socket fails instead of failing itself."""

    def __init__(self, port):
        Socket.__init__(self)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.bind((HOST, port))
        self.listen()
        self.connections = {}
        self.settimeout(0.0001)

    def _get_request(self, connection, address):
        try:
            return super()._get_request(connection, address)
        except (socket.timeout, BlockingIOError):  # noqa: UP041 (REAPER may run a Python older than 3.10)
            return None
        except (OSError, ValueError):  # a broken socket or a garbled message: the client is gone
            return {"function": self.disconnect, "input": {"args": (address,), "kwargs": {}}}

    def _hold_connection(self, address):
        try:
            return super()._hold_connection(address)
        except (OSError, KeyError):  # the holding client died: release the hold and forget it
            self.disconnect(address)
            return {"type": "result", "value": None}

    def disconnect(self, address):
        connection = self.connections.pop(address, None)
        if connection is None:
            return
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        connection.close()

    def send_results(self, results):
        for address, result in results.items():
            connection = self.connections.get(address)
            if connection is None:
                continue
            try:
                self._send_result(connection, result)
            except OSError:
                self.disconnect(address)


def serve_round(server):
    """Accept new clients and answer every pending request once (one REAPER defer tick)."""
    server.accept()
    server.send_results(server.process_requests(server.get_requests()))


def main_loop(server):
    try:
        serve_round(server)
    except Exception:  # never let one bad round end the loop; say what happened in the console
        reapy.print("ReaDDSP reapy server: " + traceback.format_exc())
    reapy.defer(main_loop, server)


def stop(server):
    reapy.delete_ext_state("reapy", "server_port")
    server.close()


if __name__ == "__main__":
    try:
        SERVER = LoopbackServer(PORT)
    except OSError as err:  # another reapy server (ours or reapy's own) already has the port: leave it serving
        reapy.print(f"ReaDDSP reapy server: port {PORT} is taken ({err}); not starting a second server\n")
    else:
        reapy.set_ext_state("reapy", "server_port", PORT)
        main_loop(SERVER)
        reapy.at_exit(stop, SERVER)
