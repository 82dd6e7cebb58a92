import locale
import sys
print(locale.getpreferredencoding(False), locale.getlocale(), sys.getfilesystemencodeerrors())
print(locale.setlocale(locale.LC_ALL, ""))
