# @noindex
"""Shared by the ReaDDSP action scripts: send one OSC command, starting the engine if needed."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid

HOST = "127.0.0.1"
PORT = int(os.environ.get("READDSP_ENGINE_PORT", "9737"))
NOT_RUNNING = (
    "The ReaDDSP engine is not running and could not be started.\n"
    "Open a terminal and run:  readdsp engine\n(then run this action again)."
)


def _pad(data):
    return data + b"\0" * (4 - len(data) % 4)


def osc_message(address, *args):
    """Encode an OSC message with string, int and float arguments."""
    tags, payload = ",", b""
    for arg in args:
        if isinstance(arg, str):
            tags, payload = tags + "s", payload + _pad(arg.encode("utf-8"))
        elif isinstance(arg, int):
            tags, payload = tags + "i", payload + struct.pack(">i", arg)
        else:
            tags, payload = tags + "f", payload + struct.pack(">f", float(arg))
    return _pad(address.encode()) + _pad(tags.encode()) + payload


def osc_address_and_args(data):
    end = data.index(b"\0")
    address = data[:end].decode()
    offset = (end // 4 + 1) * 4
    end = data.index(b"\0", offset)
    tags = data[offset + 1 : end].decode()
    offset = (end // 4 + 1) * 4
    args = []
    for tag in tags:
        if tag == "s":
            end = data.index(b"\0", offset)
            args.append(data[offset:end].decode("utf-8"))
            offset = (end // 4 + 1) * 4
        elif tag in "if":
            args.append(struct.unpack(">" + tag, data[offset : offset + 4])[0])
            offset += 4
    return address, args


def request(address, *args, wait_for=("/readdsp/accepted", "/readdsp/pong", "/readdsp/error"), timeout=1.0):
    """Send `address id *args`; return the first reply among `wait_for` as (address, args), or None."""
    request_id = uuid.uuid4().hex[:12]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(0.2)
        sock.sendto(osc_message(address, request_id, *args), (HOST, PORT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = osc_address_and_args(sock.recv(65536))
            except (TimeoutError, ConnectionResetError):
                continue
            if reply[0] in wait_for and reply[1][:1] == [request_id]:
                return reply
    return None


def ensure_engine(start_timeout=60.0):
    """True if the engine answers a ping, starting `readdsp engine` in the background when it does not."""
    if request("/readdsp/ping"):
        return True
    command = os.environ.get("READDSP_ENGINE_CMD") or shutil.which("readdsp")
    if not command:
        return False
    flags = {"start_new_session": True} if os.name != "nt" else {"creationflags": 0x00000008}
    subprocess.Popen(
        [command, "engine", "--port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **flags,
    )
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if request("/readdsp/ping"):
            return True
    return False


def say(text):
    api = sys.modules.get("reaper_python")
    if api is not None:
        api.RPR_ShowMessageBox(text, "ReaDDSP", 0)
    else:
        print(text)


def ask(title, captions, defaults):
    """REAPER's input dialog; outside REAPER, the defaults. Returns a list of strings or None if cancelled."""
    api = sys.modules.get("reaper_python")
    if api is None:
        return list(defaults)
    result = api.RPR_GetUserInputs(title, len(captions), ",".join(captions), ",".join(defaults), 512)
    return result[4].split(",") if result[0] else None


def run_command(address, *args):
    """What every action does: make sure the engine runs, send one command, report a refusal."""
    if not ensure_engine():
        say(NOT_RUNNING)
        return 1
    reply = request(address, *args)
    if reply is None:
        say("The ReaDDSP engine did not acknowledge " + address)
        return 1
    if reply[0] == "/readdsp/error":
        say("ReaDDSP: " + str(reply[1][-1]))
        return 1
    return 0
