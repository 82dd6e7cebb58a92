# stdin: 'line one\nline two\nno newline'
import sys
data = sys.stdin.read()
print(len(data), data.splitlines())
print(repr(sys.stdin.read()))
