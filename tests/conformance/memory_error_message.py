try:
    bytearray(1 << 62)
except MemoryError as exc:
    print("MemoryError", repr(exc))
print(" ".join(str(n) for n in range(20)))
