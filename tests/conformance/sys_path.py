import sys
print(sys.path)
print(list(sys.path_importer_cache))
print(sys.meta_path, [type(h).__name__ for h in sys.path_hooks])
