import weakref


class Target:
    pass


kept = Target()
ref = weakref.ref(kept, lambda r: print("weakref callback at exit"))
proxy = weakref.proxy(Target(), print)  # dead at once: its callback runs now
print("end of module")
