"""Built-in plugins. Each registers through the `livecode` entry-point group, like a third-party one."""
