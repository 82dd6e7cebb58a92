"""Judge0's ``additional_files``: a zip archive, always base64, whose files are put beside the
source file, read into livecode's ``files`` before anything is stored or run.

The archive comes from a user, so it is read as hostile: the host never extracts it to disk. At
most ``max_files - 1`` entries (the source file is one of the program's files), none encrypted,
none a link, and their texts at most ``max_files_bytes`` in all. Sizes are those actually read
(at most one byte past the budget per entry), never the sizes the archive declares, so a zip
bomb costs what the budget allows and no more. A name must be one livecode accepts for any
file (``core.sources.check_name``). Files are text: livecode keeps a program's files as
strings, so an entry that is not UTF-8 is refused rather than changed.
"""

import base64
import binascii
import io
import stat
import zipfile

from livecode.core.errors import InvalidInput, PayloadTooLarge
from livecode.core.sources import check_name


def read_additional_files(value: str, max_files: int, max_bytes: int) -> list[dict]:
    """The archive's files as ``[{name, content}]``, in the archive's order."""
    try:
        raw = base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (binascii.Error, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidInput(f"additional_files is not a base64 zip archive: {exc}",
                           field="additional_files") from None
    if len(entries) > max_files - 1:
        raise InvalidInput(f"additional_files holds {len(entries)} files; the limit is "
                           f"{max_files - 1} beside the source file", field="additional_files")
    files, budget = [], max_bytes
    for entry in entries:
        if entry.flag_bits & 0x1 or stat.S_ISLNK(entry.external_attr >> 16):
            raise InvalidInput(f"additional_files: {entry.filename!r} is encrypted or a link",
                               field="additional_files")
        name = _name(entry.filename)
        try:
            with archive.open(entry) as member:
                data = member.read(budget + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise InvalidInput(f"additional_files: {entry.filename!r} cannot be read: {exc}",
                               field="additional_files") from None
        budget -= len(data)
        if budget < 0:
            raise PayloadTooLarge(f"additional_files hold more than {max_bytes} bytes",
                                  field="additional_files", limit=max_bytes)
        try:
            files.append({"name": name, "content": data.decode("utf-8")})
        except UnicodeDecodeError:
            raise InvalidInput(f"additional_files: {name!r} is not UTF-8 text; livecode keeps a "
                               "program's files as text", field="additional_files") from None
    return files


def _name(name: str) -> str:
    try:
        return check_name(name)
    except InvalidInput as exc:
        raise InvalidInput(f"additional_files: {exc.message}", field="additional_files") from None


def zip_files(files: list[dict]) -> str:
    """``files`` as Judge0 shows ``additional_files``: a base64 zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            archive.writestr(item["name"], item["content"].encode("utf-8", "surrogatepass"))
    return base64.b64encode(buffer.getvalue()).decode("ascii")
