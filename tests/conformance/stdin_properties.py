import sys
for name in ("stdin", "stdout", "stderr"):
    stream = getattr(sys, name)
    print(name, stream, stream.encoding, stream.errors, stream.line_buffering,
          stream.write_through, stream.isatty(), stream.seekable(), stream.buffer.raw.name,
          stream.buffer.raw.mode, type(stream.buffer).__name__)
try:
    sys.stdin.tell()
except OSError as exc:
    print("tell:", exc)
print(sys.stdin is sys.__stdin__, sys.stdout is sys.__stdout__)
