import sys
print(sys.flags)
print(sys.prefix, sys.exec_prefix, sys.base_prefix, sys.platlibdir, sys.dont_write_bytecode)
print(sys.warnoptions, sys._xoptions, sys.get_int_max_str_digits())
