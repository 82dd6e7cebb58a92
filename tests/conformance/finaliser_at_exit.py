class Noisy:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("finalised", self.name)


kept = Noisy("module global")


class Broken:
    def __del__(self):
        raise ValueError("in __del__")


also = Broken()
print("end of module")
