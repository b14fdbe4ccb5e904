"""Backup and restore of every service database and the stored materials.

A backup is a directory:

    manifest.json        what is inside: each file's SHA-256, each database's kind and schema
                         version, the tools that made it, the ids (never the values) of the data keys
                         its sealed values and files use, read from the dumped data itself
    <service>.pgdump     pg_dump custom format (PostgreSQL) — or <service>.sqlite (SQLite backup API)
    materials.tar        the stored images exactly as on disk: still encrypted, so useless without keys

The manifest is written last: a directory without one is an unfinished backup and is refused.
Restore checks everything before it writes anything: every checksum, every target database empty,
the materials directory empty, the schema versions known to this code, every data key id the backup
uses present in DATA_KEYS (a key retired too early is named). A second restore of the same
backup is therefore refused (the databases are no longer empty).

Consistency across services: each database is dumped in its own snapshot, one after the other, so
one service can hold an event another has not seen yet. Restore marks the outbox rows sent during
the last minutes before the backup as unsent; the relays publish them again when the services start
and every consumer skips what it already processed (events are deduplicated by id).
"""
import datetime
import hashlib
import json
import os
import tarfile
from dataclasses import dataclass, field

from sqlalchemy import MetaData, update

from services.common import clock
from services.common.tables import add_platform_tables

from .databases import BackupError, open_database
from .rotate import key_usage_of_connection

FORMAT = 1
MANIFEST = "manifest.json"
MATERIALS = "materials.tar"
DATABASE_SERVICES = ("identity", "registration", "review", "notify")


@dataclass
class Site:
    """Where this deployment keeps its state (from the same environment the services read)."""
    databases: dict
    materials_dir: str
    data_key_ids: list = field(default_factory=list)

    @classmethod
    def from_environment(cls, environ=None):
        from services.common.config import database_url, env

        environ = os.environ if environ is None else environ
        var_dir = env("VAR_DIR", environ)
        materials = environ.get("MATERIALS_DIR") or os.path.join(var_dir, "materials")
        key_ids = [item.strip().partition(":")[0] for item in (env("DATA_KEYS", environ) or "").split(",")
                   if item.strip()]
        return cls({service: database_url(service, environ) for service in DATABASE_SERVICES},
                   os.path.abspath(materials), key_ids)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _material_files(root):
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            if not name.startswith(".tmp-"):  # a write in progress, not yet a material
                yield os.path.join(directory, name)


def backup(directory, site, progress=print):
    """Write a complete backup of `site` into `directory` (new or empty); returns the manifest."""
    if os.path.isdir(directory) and os.listdir(directory):
        raise BackupError(f"备份目录 {directory} 不是空的：每次备份请用一个新目录（例如以日期时间命名）")
    os.makedirs(directory, exist_ok=True)
    started = clock.now()
    databases = {}
    key_ids = set()
    for service, url in site.databases.items():
        db = open_database(url)
        if not db.exists() or not db.tables():
            raise BackupError(f"{service} 的数据库（{db.where()}）不存在或为空：请检查 "
                              f"{service.upper()}_DATABASE_URL 是否与服务所用的一致")
        tools = db.tool_versions()
        name = f"{service}{db.suffix}"
        path = os.path.join(directory, name)
        usage = db.dump(path, read=lambda conn, service=service: key_usage_of_connection(conn, service))
        key_ids.update(kid for counts in usage.values() for kid in counts)
        databases[service] = {"kind": db.kind, "file": name, "sha256": _sha256(path),
                              "bytes": os.path.getsize(path), "schema_version": db.schema_version(),
                              "tools": tools}
        progress(f"{service}: {db.kind} → {name} ({databases[service]['bytes']} bytes)")
    # After the databases: an image uploaded meanwhile is an unreferenced extra, never a hole.
    tar_path = os.path.join(directory, MATERIALS)
    count = 0
    with tarfile.open(tar_path, "w") as tar:
        if os.path.isdir(site.materials_dir):
            for path in _material_files(site.materials_dir):
                kid = _add_material(tar, path, os.path.relpath(path, site.materials_dir))
                key_ids.update([kid] if kid else [])
                count += 1
    progress(f"materials: {count} files → {MATERIALS}")
    manifest = {
        "format": FORMAT,
        "started_at": clock.iso(started),
        "finished_at": clock.iso(clock.now()),
        "databases": databases,
        "materials": {"file": MATERIALS, "sha256": _sha256(tar_path), "bytes": os.path.getsize(tar_path),
                      "files": count},
        # Which keys decrypt this backup: keep them (DATA_KEYS) as long as the backup is kept.
        "data_key_ids": sorted(key_ids),
        "keys_included": False,
    }
    tmp = os.path.join(directory, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(directory, MANIFEST))
    return manifest


def _add_material(tar, path, arcname):
    """Add one file to the tar through one open handle; the key id its header names (the bytes
    archived are the bytes read, even if rotate-keys swaps the file meanwhile)."""
    with open(path, "rb") as fh:
        head = fh.read(1)
        kid = fh.read(head[0]) if head else b""
        fh.seek(0)
        tar.addfile(tar.gettarinfo(arcname=arcname, fileobj=fh), fh)
    try:
        return kid.decode("ascii") or None
    except UnicodeDecodeError:
        return None


def check_keys(manifest, site):
    """Every data key id the backup uses is in DATA_KEYS, else BackupError naming the missing ids."""
    missing = sorted(set(manifest.get("data_key_ids") or []) - set(site.data_key_ids))
    if missing:
        ids = ", ".join(missing)
        raise BackupError(
            f"这份备份中的数据用数据密钥 {ids} 加密，而当前 DATA_KEYS 中没有该密钥，拒绝恢复：请从密钥保管处取回"
            f"编号为 {ids} 的密钥，加在 DATA_KEYS 中最新密钥之后，再恢复（备份不含密钥） / the backup needs data "
            f"key id(s) {ids}, which DATA_KEYS does not hold: add them back after the newest key and restore again")


def read_manifest(directory):
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise BackupError(f"{directory} 不是完整的备份（没有 {MANIFEST}）：备份可能中途失败，请换用另一份备份")
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"备份清单 {path} 已损坏（不是有效的JSON），拒绝恢复：请换用另一份备份") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')!r} 不是本程序能恢复的格式 {FORMAT}：请用制作备份的程序版本恢复")
    return manifest


def verify(directory, manifest):
    """Every file present with the checksum the manifest says, else BackupError naming the file."""
    entries = [*manifest["databases"].values(), manifest["materials"]]
    for entry in entries:
        path = os.path.join(directory, entry["file"])
        if not os.path.exists(path):
            raise BackupError(f"备份缺少文件 {entry['file']}，拒绝恢复：请换用另一份完整的备份")
        if _sha256(path) != entry["sha256"]:
            raise BackupError(f"备份文件 {entry['file']} 的校验和与清单不符（文件已损坏或被改动），拒绝恢复："
                              "请换用另一份备份")


def _check_targets(manifest, site):
    from services.common import migrations

    missing = set(manifest["databases"]) - set(site.databases)
    if missing:
        raise BackupError(f"备份中的数据库 {', '.join(sorted(missing))} 在本环境没有对应的服务")
    targets = {}
    for service, entry in manifest["databases"].items():
        db = open_database(site.databases[service])
        if db.kind != entry["kind"]:
            raise BackupError(f"{service} 的备份是 {entry['kind']}，目标数据库是 {db.kind}：只能恢复到同类数据库")
        existing = db.tables()
        if existing:
            raise BackupError(f"{service} 的目标数据库（{db.where()}）已有 {len(existing)} 张表，拒绝覆盖："
                              "请恢复到新建的空数据库（同一份备份不会恢复两次）")
        version = entry.get("schema_version")
        if version and not migrations.knows(service, version):
            raise BackupError(f"{service} 的备份来自更新的程序版本（数据库版本 {version} 本程序不认识）："
                              "请用相同或更新版本的程序恢复")
        targets[service] = db
    if os.path.isdir(site.materials_dir) and any(True for _ in _material_files(site.materials_dir)):
        raise BackupError(f"材料目录 {site.materials_dir} 不是空的，拒绝覆盖：请恢复到新的空目录")
    return targets


def restore(directory, site, republish_minutes=10, progress=print):
    """Restore a verified backup into empty databases and an empty materials directory."""
    manifest = read_manifest(directory)
    verify(directory, manifest)
    check_keys(manifest, site)
    targets = _check_targets(manifest, site)
    for service, db in targets.items():
        entry = manifest["databases"][service]
        db.restore(os.path.join(directory, entry["file"]), entry)
        progress(f"{service}: restored from {entry['file']} (schema {entry.get('schema_version')})")
    os.makedirs(site.materials_dir, mode=0o700, exist_ok=True)
    with tarfile.open(os.path.join(directory, MATERIALS)) as tar:
        tar.extractall(site.materials_dir, filter="data")
    progress(f"materials: {manifest['materials']['files']} files → {site.materials_dir}")
    since = datetime.datetime.fromisoformat(manifest["started_at"]) - datetime.timedelta(minutes=republish_minutes)
    outbox = add_platform_tables(MetaData())[0]
    for service, db in targets.items():
        n = db.run(update(outbox).where(outbox.c.sent_at >= since).values(sent_at=None))
        progress(f"{service}: {n} events sent since {clock.iso(since)} will be published again "
                 "(consumers skip repeats)")
    return manifest
