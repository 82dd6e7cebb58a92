import sys

out = open(sys.stdout.fileno(), "w", closefd=False)
out.write("written through a second file object, flushed only when it is freed\n")
print("through sys.stdout")
