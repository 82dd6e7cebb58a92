class Slotted:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("finalised", self.name)


class Meta(type):
    def __getattr__(cls, name):  # never asked for anything by the interpreter's exit
        print("metaclass hook", name)
        raise AttributeError(name)


class Plain(metaclass=Meta):
    pass


one = Slotted("slotted")
plain = Plain()
print("end of module")
