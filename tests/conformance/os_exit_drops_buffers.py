import os
import sys
print("buffered and lost", end="")
sys.stderr.write("stderr is unbuffered enough\n")
os._exit(7)
