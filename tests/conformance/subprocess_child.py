import subprocess
import sys
print(subprocess.run(["echo", "from a child"], capture_output=True, text=True).stdout, end="")
print(subprocess.run([sys.executable, "-I", "-S", "-c", "import sys; print(len(sys.modules))"],
                     capture_output=True, text=True).stdout, end="")
