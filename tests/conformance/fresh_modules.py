import sys
print(sorted(sys.modules))
print(sorted(sys.builtin_module_names) == sorted(set(sys.builtin_module_names)))
