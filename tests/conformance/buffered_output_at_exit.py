import sys
sys.stdout.write("x" * 100000)
print("no newline at the end", end="")
sys.stderr.write("err without newline")
