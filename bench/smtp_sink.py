"""A lean SMTP sink on loopback for bench_send.py: it speaks just enough SMTP (EHLO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT), keeps nothing but counts, and costs far less CPU per
message than the sender, so that it is never what the benchmark measures.

    python bench/smtp_sink.py [--latency-ms 100]   # prints "127.0.0.1 <port>", serves
        # until SIGTERM, then prints {"messages": n, "bytes": n, "recipients": n}

``--latency-ms`` answers each message that much later (a provider's round trip), so that
workers sharing a send can be measured where the provider, not the CPU, sets the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

_END = b"\r\n.\r\n"
_ANSWERS = {
    b"EHLO": b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n",
    b"HELO": b"250 sink\r\n",
    b"MAIL": b"250 OK\r\n",
    b"RSET": b"250 OK\r\n",
    b"NOOP": b"250 OK\r\n",
}
stats = {"messages": 0, "bytes": 0, "recipients": 0}
latency = 0.0  # seconds before the answer to a message


class Session(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.in_data:
                end = self.buffer.find(_END)
                if end < 0:
                    return
                stats["messages"] += 1
                stats["bytes"] += end
                self.buffer = self.buffer[end + len(_END) :]
                self.in_data = False
                if latency:
                    loop = asyncio.get_running_loop()
                    loop.call_later(latency, self.transport.write, b"250 OK queued\r\n")
                else:
                    self.transport.write(b"250 OK queued\r\n")
                continue
            line, found, rest = self.buffer.partition(b"\r\n")
            if not found:
                return
            self.buffer = rest
            self._command(line[:4].upper())

    def _command(self, verb: bytes) -> None:
        if verb == b"RCPT":
            stats["recipients"] += 1
            self.transport.write(b"250 OK\r\n")
        elif verb == b"DATA":
            self.in_data = True
            self.transport.write(b"354 go on\r\n")
        elif verb == b"QUIT":
            self.transport.write(b"221 bye\r\n")
            self.transport.close()
        else:
            self.transport.write(_ANSWERS.get(verb, b"502 not here\r\n"))


async def serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"127.0.0.1 {port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=0.0)
    latency = parser.parse_args().latency_ms / 1000
    asyncio.run(serve())
