import sys
print("out")
sys.exit("a message to stderr")
