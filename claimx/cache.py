"""On-disk cache of loaded rule packs, so a fresh process skips YAML parsing and validation.

Loading the default pack from YAML takes about 0.2 s; unpickling the same
:class:`~claimx.packs.Pack` takes about 2 ms. :func:`claimx.packs.load_packs` asks
:func:`load_pack` first and hands every pack it had to build to :func:`store_pack`.

An entry is keyed by the pack folder, the claimx version, the Python version and a
fingerprint of every file under the folder *and* of claimx's own modules (path, size and
modification time), so editing a rule file — or the code that defines the pickled classes —
simply misses the cache. Entries are written atomically (temp file + ``os.replace``); any
failure to read, unpickle or write one is ignored and the pack is built from YAML as if
there were no cache. Only packs that loaded without problems are stored, so a pack with
errors is re-read, and its errors reported, every time.

Where: ``$CLAIMX_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/claimx``, else
``~/.cache/claimx``. ``CLAIMX_NO_CACHE=1`` turns the cache off. The cache folder is created
private to the user (mode 0700): entries are pickles, and reading a pickle runs code, so the
folder must not be writable by anyone else.

This is the one claimx module besides the command line that touches the file system on its
own; it never raises.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "clear", "entry_path", "load_pack", "store_pack"]

# Bump when the layout of an entry changes; old entries are then simply never read.
_FORMAT = 1
_PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """The folder holding cache entries, or None when caching is turned off."""
    if os.environ.get("CLAIMX_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("CLAIMX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "claimx"


def _files_fingerprint(root: Path, suffixes: tuple[str, ...] | None = None) -> list[str]:
    """(relative path, size, mtime in ns) of every file under ``root``, sorted."""
    rows: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if suffixes is not None and not name.endswith(suffixes):
                continue
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            rows.append(f"{os.path.relpath(path, root)}\0{st.st_size}\0{st.st_mtime_ns}")
    return rows


def _key(root: Path) -> str:
    """Hex digest naming the entry of the pack folder ``root`` in its current state."""
    from claimx import __version__

    h = hashlib.sha256()
    for part in (f"format={_FORMAT}", f"claimx={__version__}",
                 f"python={sys.version_info[0]}.{sys.version_info[1]}",
                 f"pickle={pickle.HIGHEST_PROTOCOL}", f"root={root}"):
        h.update(part.encode("utf-8", "surrogatepass") + b"\n")
    h.update(b"pack\n")
    for row in _files_fingerprint(root):
        h.update(row.encode("utf-8", "surrogatepass") + b"\n")
    # The pickled objects are instances of claimx's classes: a changed module (in an
    # editable install, without a version bump) must not meet an entry of the old shape.
    h.update(b"code\n")
    for row in _files_fingerprint(_PACKAGE_DIR, (".py",)):
        h.update(row.encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()


def entry_path(root: str | os.PathLike[str]) -> Path | None:
    """Where the entry for the pack folder ``root`` lives (None when caching is off or the
    folder cannot be read)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return folder / f"pack-{_key(Path(root).resolve())[:40]}.pickle"
    except OSError:
        return None


def load_pack(root: str | os.PathLike[str]) -> Any | None:
    """The cached :class:`~claimx.packs.Pack` of the folder ``root``, or None on any miss."""
    path = entry_path(root)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
        pack = pickle.loads(data)
    except Exception:  # missing, truncated, from another version: rebuild from YAML
        return None
    from claimx.packs import Pack

    return pack if isinstance(pack, Pack) else None


def store_pack(root: str | os.PathLike[str], pack: Any) -> bool:
    """Write ``pack`` as the entry of the folder ``root``; True if it was written."""
    path = entry_path(root)
    if path is None:
        return False
    tmp_name = None
    try:
        data = pickle.dumps(pack, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Write then rename: a reader in another process sees the old entry or the new
        # one, never half a file.
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp_name, path)
        tmp_name = None
        return True
    except Exception:  # read-only home, full disk, unpicklable object: just don't cache
        return False
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def clear() -> int:
    """Delete every cache entry; returns how many were removed."""
    folder = cache_dir()
    removed = 0
    if folder is None or not folder.is_dir():
        return 0
    for path in folder.glob("pack-*.pickle"):
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed
