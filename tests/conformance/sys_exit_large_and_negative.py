import sys
sys.exit(-1 if len(sys.argv) > 5 else 258)
