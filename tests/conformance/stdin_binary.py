# stdin: 'bytes \xe9 and more\n'
import sys
print(sys.stdin.buffer.read())
