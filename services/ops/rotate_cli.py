"""The words of `python -m services.ops rotate-keys`: progress, the summary, what to do next."""
import json
import os

from services.common.config import DEV_SECRETS, env
from services.common.crypto import DataCipher

from .databases import BackupError
from .reindex import reindex
from .rotate import key_usage, rotate


def cipher_of(environ):
    environ = os.environ if environ is None else environ
    if env("APP_ENV", environ) == "production":
        for name in ("DATA_KEYS", "BLIND_INDEX_KEY"):
            if env(name, environ) in (None, "", DEV_SECRETS[name]):
                raise BackupError(f"生产环境中 {name} 未设置（仍是开发密钥），拒绝用公开的开发密钥改写数据："
                                  f"请使用与各服务相同的 .env / {name} is not set in production")
    try:
        return DataCipher(env("DATA_KEYS", environ), env("BLIND_INDEX_KEY", environ))
    except ValueError as exc:
        raise BackupError(str(exc)) from None


def rotate_keys(args, site, environ=None):
    cipher = cipher_of(environ)
    if args.status:
        return _status(site, cipher)
    if args.batch_size < 1:
        raise BackupError("--batch-size 至少为 1")
    report = rotate(site, cipher, batch_size=args.batch_size, max_batches=args.max_batches)
    for o in report.outcomes:
        if o.to_do or o.failures:
            print(f"{o.name}: {o.resealed} re-encrypted, {o.changed_meanwhile} changed meanwhile (already new), "
                  f"{len(o.failures)} failed")
    for name, where, reason in report.failures[:20]:
        print(f"  failed: {name} {where}: {reason}")
    if report.failures:
        print(f"有 {len(report.failures)} 个值未能重新加密（见上，多为其密钥编号不在 DATA_KEYS 中）：把缺少的密钥加回"
              f" DATA_KEYS 后再运行 / {len(report.failures)} values could not be re-encrypted; add the missing keys "
              "and run again")
        return 2
    if report.stopped_early:
        print(f"已按 --max-batches 停止；再次运行即从停下处继续 / stopped after {args.max_batches} batches as asked; "
              "run again to continue")
        return 0
    print(f"完成：所有数据都已使用最新密钥 {report.current} / done: everything is on {report.current}. "
          "旧密钥仍须保留，直到列有它的备份全部过期 / keep the older keys while a kept backup lists them")
    return 0


def _status(site, cipher):
    usage = key_usage(site)
    used = set()
    for name, counts in usage.items():
        used.update(counts)
        print(json.dumps({"data": name, "keys": counts}, ensure_ascii=False))
    old = sorted(used - {cipher.current_key_id})
    unknown = sorted(used - set(cipher.key_ids))
    idle = [kid for kid in cipher.key_ids if kid not in used]
    print(f"newest key: {cipher.current_key_id}; data still on older keys: {', '.join(old) or 'none'}; "
          f"keys in DATA_KEYS no data uses: {', '.join(idle) or 'none'}")
    if unknown:
        print(f"数据用到了 DATA_KEYS 中没有的密钥 {', '.join(unknown)}：这些数据现在无法解密，请把密钥加回 / "
              f"data uses key ids not in DATA_KEYS: {', '.join(unknown)}")
        return 2
    return 0


def reindex_command(args, site, environ=None):
    cipher = cipher_of(environ)
    if args.batch_size < 1:
        raise BackupError("--batch-size 至少为 1")
    outcomes = reindex(site, cipher, batch_size=args.batch_size)
    failures = [(o.name, *f) for o in outcomes for f in o.failures]
    for o in outcomes:
        print(f"{o.name}: {o.rows} rows, {o.changed} re-indexed, {len(o.failures)} failed")
    for name, where, reason in failures[:20]:
        print(f"  failed: {name} {where}: {reason}")
    if failures:
        print(f"有 {len(failures)} 行未能重算索引（见上）：这些人将无法按手机号或证件号找到，修复后再运行 / "
              f"{len(failures)} rows could not be re-indexed; fix and run again before starting the services")
        return 2
    print("完成：盲索引已按当前 BLIND_INDEX_KEY 重算，现在可以启动服务 / done: start the services")
    return 0
