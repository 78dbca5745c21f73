"""Sends raw bytes as one unary gRPC request (no protobuf encoding on the
client side), so tests can post malformed or oversized OTLP messages with
a real gRPC client. Prints `OK <response bytes>` or `<STATUS_CODE> <details>`
and, for RESOURCE_EXHAUSTED, whether a RetryInfo detail came back.

usage: grpc_raw.py HOST:PORT METHOD_PATH (--hex HEX | --file PATH | --repeat BYTE:COUNT) [--gzip] [--header KEY=VALUE ...]
"""

import argparse
import sys

import grpc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("method")
    parser.add_argument("--hex")
    parser.add_argument("--file")
    parser.add_argument("--repeat", help="BYTE:COUNT, e.g. 0a:100")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--header", action="append", default=[], help="KEY=VALUE request metadata")
    args = parser.parse_args()
    if args.hex is not None:
        body = bytes.fromhex(args.hex)
    elif args.file:
        body = open(args.file, "rb").read()
    elif args.repeat:
        byte, count = args.repeat.split(":")
        body = bytes.fromhex(byte) * int(count)
    else:
        sys.exit("give --hex, --file or --repeat")
    options = [("grpc.max_send_message_length", 256 * 1024 * 1024), ("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    compression = grpc.Compression.Gzip if args.gzip else grpc.Compression.NoCompression
    with grpc.insecure_channel(args.target, options=options, compression=compression) as channel:
        call = channel.unary_unary(args.method, request_serializer=None, response_deserializer=None)
        try:
            metadata = [tuple(h.split("=", 1)) for h in args.header]
            response = call(body, timeout=30, metadata=metadata)
            print("OK", response.hex())
        except grpc.RpcError as e:
            retry = ""
            for key, value in e.trailing_metadata() or ():
                if key == "grpc-status-details-bin" and b"RetryInfo" in value:
                    retry = " retry-info"
            print(e.code().name, e.details() + retry)


if __name__ == "__main__":
    main()
