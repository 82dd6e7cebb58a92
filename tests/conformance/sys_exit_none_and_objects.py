import sys
try:
    sys.exit()
except SystemExit as exc:
    print("code", exc.code)
raise SystemExit([1, "two"])
