import enum
import sys


class Code(enum.IntEnum):
    PARTIAL = 3


print("exiting with an IntEnum")
sys.exit(Code.PARTIAL)
