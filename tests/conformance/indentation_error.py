if True:
print("bad")
