"""Drives Fides (PyPI `ethyca-fides`) in-process for bench/fides.sh: no webserver, no HTTP.

    driver.py setup SHOP_DATASET_YAML       app database (migrations), the shop's connection,
                                            its dataset, local storage, an access policy
    driver.py run EMAIL OUT.json [REPEAT]   REPEAT access requests for EMAIL, one after another

The app database, Redis and the shop's connection come from the environment (FIDES__*,
set by bench/fides.sh; SHOP_HOST, SHOP_PORT, SHOP_DB, SHOP_USER, SHOP_PASSWORD).

`run` submits each request as Fides' API endpoint does (PrivacyRequestService.
create_privacy_request, authenticated, so approved at once) and Fides' own Celery app
runs it: its default `task_always_eager` runs the queued `run_privacy_request` and every
request task (DSR 3.0, one per collection) inline, in this process. The time is from
submission to the request's status `complete`, the access package uploaded to local
storage (Fides' `fides_uploads/` in the working directory). OUT.json gets, per request,
the seconds and the (table, id) of every row of Fides' raw access results.
"""

import json
import os
import resource
import sys
import time

import yaml

POLICY_KEY = "ferry_bench_access"
CONNECTION_KEY = "shop_postgres"
STORAGE_KEY = "ferry_bench_local"


def session():
    import fides.api.db.base  # noqa: F401  (every model, so that SQLAlchemy's mappers resolve)
    from fides.api.db.session import get_db_session
    from fides.config import CONFIG

    return get_db_session(CONFIG)()


def setup(dataset_path: str) -> None:
    from fides.api.db.database import configure_db
    from fides.config import CONFIG

    configure_db(CONFIG.database.sqlalchemy_database_uri)

    from fides.api.models.connectionconfig import (
        AccessLevel,
        ConnectionConfig,
        ConnectionType,
    )
    from fides.api.models.datasetconfig import DatasetConfig
    from fides.api.models.policy import Policy, Rule, RuleTarget
    from fides.api.models.sql_models import Dataset as CtlDataset  # type: ignore
    from fides.api.models.storage import StorageConfig
    from fides.api.schemas.policy import ActionType
    from fides.api.schemas.storage.storage import ResponseFormat, StorageType

    from fides.api.db.database import seed_db

    db = session()
    seed_db(db)  # the default taxonomy (data categories) and policies, as the webserver's start does

    def made(model, key, data):
        """The row with this key, made if missing (setup may run again on the same app database)."""
        return model.get_by(db, field="key", value=key) or model.create(db=db, data={**data, "key": key})

    conn = made(
        ConnectionConfig,
        CONNECTION_KEY,
        {
            "name": "Generated shop",
            "connection_type": ConnectionType.postgres,
            "access": AccessLevel.read,
            "secrets": {
                "host": os.environ["SHOP_HOST"],
                "port": int(os.environ["SHOP_PORT"]),
                "dbname": os.environ["SHOP_DB"],
                "username": os.environ["SHOP_USER"],
                "password": os.environ["SHOP_PASSWORD"],
            },
        },
    )
    with open(dataset_path) as f:
        dataset = yaml.safe_load(f)["dataset"][0]
    if not DatasetConfig.get_by(db, field="fides_key", value=dataset["fides_key"]):
        ctl = CtlDataset.create_from_dataset_dict(db, dataset)
        DatasetConfig.create(
            db=db,
            data={
                "connection_config_id": conn.id,
                "fides_key": dataset["fides_key"],
                "ctl_dataset_id": ctl.id,
            },
        )
    storage = made(
        StorageConfig,
        STORAGE_KEY,
        {
            "name": "ferry bench local storage",
            "type": StorageType.local,
            "details": {"naming": "request_id"},
            "format": ResponseFormat.json,
        },
    )
    policy = made(Policy, POLICY_KEY, {"name": "ferry bench access"})
    rule = made(
        Rule,
        "ferry_bench_access_rule",
        {
            "name": "ferry bench access rule",
            "policy_id": policy.id,
            "action_type": ActionType.access,
            "storage_destination_id": storage.id,
        },
    )
    # Every category of the dataset: the package holds every column read, as ferry's
    # access answer does (ferry withholds two columns as others' data; rows are compared).
    for category in ("user", "system"):
        made(
            RuleTarget,
            f"ferry_bench_{category}",
            {"name": f"ferry bench {category}", "rule_id": rule.id, "data_category": category},
        )
    db.close()
    print("fides setup: app database migrated, connection, dataset, storage, policy made")


def run(email: str, out_path: str, repeat: int) -> None:
    t0 = time.perf_counter()
    from fides.api.models.privacy_request import PrivacyRequest
    from fides.api.schemas.privacy_request import (
        PrivacyRequestCreate,
        PrivacyRequestStatus,
    )
    from fides.api.schemas.redis_cache import Identity
    from fides.config import CONFIG
    from fides.config.config_proxy import ConfigProxy
    from fides.service.messaging.messaging_service import MessagingService
    from fides.service.privacy_request.privacy_request_service import (
        PrivacyRequestService,
    )

    imported = time.perf_counter() - t0
    results = []
    for _ in range(repeat):
        db = session()
        service = PrivacyRequestService(
            db, ConfigProxy(db), MessagingService(db, CONFIG, ConfigProxy(db))
        )
        start, cpu = time.perf_counter(), time.process_time()
        pr = service.create_privacy_request(
            PrivacyRequestCreate(identity=Identity(email=email), policy_key=POLICY_KEY),
            authenticated=True,
        )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        pr = db.query(PrivacyRequest).filter(PrivacyRequest.id == pr.id).first()
        db.refresh(pr)
        raw = pr.get_raw_access_results()
        rows = {}
        for address, found in (raw or {}).items():
            table = address.split(":", 1)[1]
            rows[table] = sorted({r["id"] for r in (found or [])})
        results.append(
            {
                "id": pr.id,
                "status": pr.status.value,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": rows,
            }
        )
        if pr.status != PrivacyRequestStatus.complete:
            print(f"fides: request {pr.id} ended {pr.status.value}", file=sys.stderr)
        db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(out_path, "w") as f:
        json.dump({"import_seconds": imported, "peak_rss_kib": peak, "requests": results}, f)
    for r in results:
        n = sum(len(v) for v in r["rows"].values())
        print(f"fides: {email}: {r['status']}, {n} rows, {r['seconds'] * 1e3:.1f} ms ({r['cpu_seconds'] * 1e3:.1f} ms of this process's CPU)")


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    else:
        sys.exit(__doc__)
