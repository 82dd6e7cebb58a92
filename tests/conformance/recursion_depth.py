import sys


def depth(n=0):
    try:
        return depth(n + 1)
    except RecursionError:
        return n


print(sys.getrecursionlimit(), depth())
try:
    sys.setrecursionlimit(1)
except RecursionError as exc:
    print(exc)
sys.setrecursionlimit(60)
print(depth())
