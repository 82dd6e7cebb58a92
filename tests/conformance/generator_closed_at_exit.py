def numbers():
    try:
        yield 1
        yield 2
    finally:
        print("generator closed at exit")


started = numbers()
print(next(started))
