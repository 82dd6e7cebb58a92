import sys


def hook(kind, value, tb):
    print("my hook:", kind.__name__, value, file=sys.stderr)


sys.excepthook = hook
raise LookupError("handled by the hook")
