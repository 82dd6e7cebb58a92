print("héllo wörld ✓ 你好")
print("\udcff")
