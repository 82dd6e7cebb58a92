try:
    {}["missing"]
except KeyError as exc:
    raise ValueError("while looking it up") from exc
