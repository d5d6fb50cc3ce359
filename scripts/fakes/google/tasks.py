"""Tasks API v1 (task lists and tasks).

Reference: https://developers.google.com/tasks/reference/rest
Task resource: https://developers.google.com/tasks/reference/rest/v1/tasks#Task
Parameters: https://developers.google.com/tasks/params
"""
import copy

import gfake_common as C
import gfake_store as S

API = "tasks"
FULL = "https://www.googleapis.com/auth/tasks"
RO = "https://www.googleapis.com/auth/tasks.readonly"
READ = (FULL, RO)
WRITE = (FULL,)
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TASK_KEYS = {"kind", "id", "etag", "title", "updated", "selfLink", "parent", "position", "notes", "status", "due",
             "completed", "deleted", "hidden", "links", "webViewLink", "assignmentInfo"}
READ_ONLY = {"kind", "id", "etag", "updated", "selfLink", "parent", "position", "hidden", "links", "webViewLink",
             "assignmentInfo"}
MAX_TITLE, MAX_NOTES = 1024, 8192          # Task resource: "Maximum length allowed"
MAX_LISTS, MAX_OPEN_TASKS, MAX_TASKS = 2000, 20000, 100000  # tasklists.list / tasks.list descriptions
GAP = float(2 ** 32)


def bad(msg, reason="invalid", location=None):
    return C.ApiError(400, msg, reason=reason, violation=True, location=location,
                      location_type="parameter" if location else None)


def S_bump(u):
    u["seq"] += 1
    return u["seq"]


def etag(seq):
    return '"%s"' % S.b64e({"s": seq})[:24]


def resolve_list(ctx, lid):
    u = ctx.u
    if lid == "@default":
        lid = next(k for k, v in u["tasklists"].items() if v.get("_default"))
    tl = u["tasklists"].get(lid)
    if tl is None or tl.get("_deleted"):
        raise C.ApiError(404, "Task list not found.", reason="notFound")
    u["tasks"].setdefault(lid, {})
    return lid, tl


def render_list(tl):
    return {"kind": "tasks#taskList", "id": tl["id"], "etag": etag(tl["_seq"]), "title": tl["title"],
            "updated": tl["updated"], "selfLink": "https://www.googleapis.com/tasks/v1/users/@me/lists/" + tl["id"]}


# https://developers.google.com/tasks/reference/rest/v1/tasklists/list
def list_lists(ctx):
    # The reference says "The default is 1000 (max allowed: 1000)"; the older
    # parameters page says 20/100.  The reference wins.
    P = ctx.params(["maxResults", "pageToken"])
    size = P.int("maxResults", 1000, 1, 1000)
    u = ctx.u
    fp = P.fingerprint({"pageToken"})
    after, snap = C.page_in(P, fp, u)
    lists = [t for t in u["tasklists"].values() if not t.get("_deleted")]
    page, last = C.keyset(lists, lambda t: [0 if t.get("_default") else 1, t.get("_ord", 0), t["id"]], after, size)
    out = {"kind": "tasks#taskLists", "etag": etag(snap), "items": [render_list(t) for t in page]}
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return out


def check_list_body(b):
    C.check_object(b, {"kind", "id", "etag", "title", "updated", "selfLink"}, "taskList", API)
    t = b.get("title")
    if not isinstance(t, str) or not t.strip():
        raise bad("Missing task list title.", reason="required")
    if len(t) > MAX_TITLE:
        raise bad("Task list title is longer than %d characters." % MAX_TITLE)
    return t


# https://developers.google.com/tasks/reference/rest/v1/tasklists/insert
def insert_list(ctx):
    ctx.params([])
    title = check_list_body(ctx.body)
    u = ctx.u
    if sum(1 for t in u["tasklists"].values() if not t.get("_deleted")) >= MAX_LISTS:
        raise C.ApiError(403, "A user can have up to %d lists at a time." % MAX_LISTS, reason="quotaExceeded")
    return render_list(new_list(u, title))


def new_list(u, title):
    lid = S.new_id(22, ID_ALPHABET)
    tl = {"id": lid, "title": title, "updated": S.now_rfc3339()}
    tl["_seq"] = tl["_ord"] = S_bump(u)
    u["tasklists"][lid] = tl
    u["tasks"][lid] = {}
    return tl


# https://developers.google.com/tasks/reference/rest/v1/tasklists/get
def get_list(ctx):
    ctx.params([])
    return render_list(resolve_list(ctx, ctx.match.group("tasklist"))[1])


# ---- tasks ------------------------------------------------------------------------------------
def render_task(lid, t):
    out = {"kind": "tasks#task", "id": t["id"], "etag": etag(t["_seq"]), "title": t.get("title", ""),
           "updated": t["updated"],
           "selfLink": "https://www.googleapis.com/tasks/v1/lists/%s/tasks/%s" % (lid, t["id"])}
    if t.get("parent"):
        out["parent"] = t["parent"]
    out["position"] = "%020d" % int(t["_order"])
    for k in ("notes", "status", "due", "completed"):
        if t.get(k):
            out[k] = t[k]
    if t.get("deleted"):
        out["deleted"] = True
    if t.get("hidden"):
        out["hidden"] = True
    out["links"] = copy.deepcopy(t.get("links") or [])
    out["webViewLink"] = "https://tasks.google.com/task/%s" % t["id"]
    return out


def tree_order(tasks):
    """Tasks in display order: each parent followed by its subtasks."""
    kids = {}
    for t in tasks.values():
        kids.setdefault(t.get("parent"), []).append(t)
    out = []

    def walk(pid, depth):
        for t in sorted(kids.get(pid, []), key=lambda x: (x["_order"], x["id"])):
            out.append(t)
            if depth < 50:
                walk(t["id"], depth + 1)
    walk(None, 0)
    seen = {t["id"] for t in out}
    out.extend(t for t in tasks.values() if t["id"] not in seen)  # orphans (parent deleted)
    return out


# https://developers.google.com/tasks/reference/rest/v1/tasks/list
def list_tasks(ctx):
    P = ctx.params(["completedMax", "completedMin", "dueMax", "dueMin", "maxResults", "pageToken", "showCompleted",
                    "showDeleted", "showHidden", "updatedMin", "showAssigned"])
    size = P.int("maxResults", 20, 1, 100)
    show_completed = P.bool("showCompleted", True)
    show_deleted = P.bool("showDeleted", False)
    show_hidden = P.bool("showHidden", False)
    P.bool("showAssigned", False)
    bounds = {k: P.time(k) for k in ("completedMax", "completedMin", "dueMax", "dueMin", "updatedMin")}
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    u = ctx.u
    fp = P.fingerprint({"pageToken"})
    after, snap = C.page_in(P, fp, u)
    ordered = tree_order(u["tasks"][lid])
    rank = {t["id"]: i for i, t in enumerate(ordered)}
    items = []
    for t in ordered:
        if t.get("deleted") and not show_deleted:
            continue
        if t.get("hidden") and not show_hidden:
            continue
        if t.get("status") == "completed" and not show_completed:
            continue
        comp = C.parse_rfc3339(t.get("completed")) if t.get("completed") else None
        due = C.parse_rfc3339(t.get("due")) if t.get("due") else None
        upd = C.parse_rfc3339(t["updated"])
        if bounds["completedMin"] and (comp is None or comp < bounds["completedMin"]):
            continue
        if bounds["completedMax"] and (comp is None or comp > bounds["completedMax"]):
            continue
        if bounds["dueMin"] and (due is None or due < bounds["dueMin"]):
            continue
        if bounds["dueMax"] and (due is None or due > bounds["dueMax"]):
            continue
        if bounds["updatedMin"] and upd < bounds["updatedMin"]:
            continue
        items.append(t)
    page, last = C.keyset(items, lambda t: [rank[t["id"]], t["id"]], after, size)
    out = {"kind": "tasks#tasks", "etag": etag(snap), "items": [render_task(lid, t) for t in page]}
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return out


def due_date_only(v):
    """Task.due: "The due date only records date information; the time portion
    of the timestamp is discarded when setting the due date." The fake keeps
    the calendar date as written and answers it at midnight UTC."""
    if C.parse_rfc3339(v) is None:
        raise bad("Invalid value for due: %r (RFC 3339 timestamp expected)." % v)
    return v[:10] + "T00:00:00.000Z"


def check_task(b, mode):
    C.check_object(b, TASK_KEYS, "task", API)
    for k in ("title", "notes", "status", "due", "completed", "id"):
        if k in b and b[k] is not None:
            C.want_type(b[k], str, k, API)
    if "deleted" in b and b["deleted"] is not None:
        C.want_type(b["deleted"], bool, "deleted", API)
    if len(b.get("title") or "") > MAX_TITLE:
        raise bad("Task title is longer than %d characters." % MAX_TITLE)
    if len(b.get("notes") or "") > MAX_NOTES:
        raise bad("Task notes are longer than %d characters." % MAX_NOTES)
    if b.get("status") is not None and b["status"] not in ("needsAction", "completed"):
        raise bad("Invalid task status: %s" % b["status"])
    if b.get("completed") and C.parse_rfc3339(b["completed"]) is None:
        raise bad("Invalid value for completed: %r" % b["completed"])
    if b.get("due"):
        due_date_only(b["due"])


def apply_task(t, b, mode):
    if mode == "update":
        for k in ("title", "notes", "status", "due", "completed", "deleted"):
            t.pop(k, None)
    for k, v in b.items():
        if k in READ_ONLY:
            continue
        if v is None:
            t.pop(k, None)
        elif k == "due":
            t["due"] = due_date_only(v)
        elif k == "completed":
            t["completed"] = C.fmt_time(C.parse_rfc3339(v))
        else:
            t[k] = v
    t.setdefault("status", "needsAction")
    if t["status"] == "completed":
        t.setdefault("completed", S.now_rfc3339())
    else:
        t.pop("completed", None)


def place(tasks, t, parent, previous):
    sibs = sorted((x for x in tasks.values() if x.get("parent") == parent and x["id"] != t["id"]),
                  key=lambda x: (x["_order"], x["id"]))
    if previous is None:
        nxt = sibs[0]["_order"] if sibs else GAP
        t["_order"] = nxt / 2.0
    else:
        i = next(i for i, x in enumerate(sibs) if x["id"] == previous)
        lo = sibs[i]["_order"]
        hi = sibs[i + 1]["_order"] if i + 1 < len(sibs) else lo + 2 * GAP
        t["_order"] = (lo + hi) / 2.0
    if parent:
        t["parent"] = parent
    else:
        t.pop("parent", None)


# https://developers.google.com/tasks/reference/rest/v1/tasks/insert
def insert_task(ctx):
    P = ctx.params(["parent", "previous"])
    lid, tl = resolve_list(ctx, ctx.match.group("tasklist"))
    b = ctx.body
    check_task(b, "insert")
    tasks = ctx.u["tasks"][lid]
    parent, previous = P.str("parent") or None, P.str("previous") or None
    if parent:
        p = tasks.get(parent)
        if p is None or p.get("deleted"):
            raise bad("Invalid parent task: %s" % parent, location="parent")
        if p.get("hidden"):
            raise bad("The task set as parent can not be hidden.", location="parent")
    if previous:
        pv = tasks.get(previous)
        if pv is None or (pv.get("parent") or None) != parent:
            raise bad("Invalid previous task: %s (must be a sibling under the same parent)." % previous,
                      location="previous")
    live = [x for x in tasks.values() if not x.get("deleted")]
    if len(live) >= MAX_TASKS or sum(1 for x in live if not x.get("hidden")) >= MAX_OPEN_TASKS:
        raise C.ApiError(403, "Task list is full.", reason="quotaExceeded")
    t = new_task(ctx.u, lid, b, parent, previous)
    return render_task(lid, t)


def new_task(u, lid, b, parent=None, previous=None):
    tasks = u["tasks"][lid]
    t = {"id": S.new_id(22, ID_ALPHABET)}
    apply_task(t, b, "insert")
    place(tasks, t, parent, previous)
    t["_seq"] = S_bump(u)
    t["updated"] = S.now_rfc3339()
    tasks[t["id"]] = t
    return t


def get_task_obj(ctx, lid, tid):
    t = ctx.u["tasks"][lid].get(tid)
    if t is None:
        raise C.ApiError(404, "Task not found.", reason="notFound")
    return t


# https://developers.google.com/tasks/reference/rest/v1/tasks/get
def get_task(ctx):
    ctx.params([])
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    return render_task(lid, get_task_obj(ctx, lid, ctx.match.group("task")))


def write_task(ctx, mode):
    ctx.params([])
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    t = get_task_obj(ctx, lid, ctx.match.group("task"))
    b = ctx.body
    check_task(b, mode)
    if b.get("id") not in (None, t["id"]):
        raise bad("Task id in the body (%s) does not match the URL." % b["id"])
    if mode == "update" and not b.get("id"):
        raise bad("Missing task id in the request body.", reason="required")
    apply_task(t, b, mode)
    t["_seq"] = S_bump(ctx.u)
    t["updated"] = S.now_rfc3339()
    return render_task(lid, t)


# https://developers.google.com/tasks/reference/rest/v1/tasks/patch
def patch_task(ctx):
    return write_task(ctx, "patch")


# https://developers.google.com/tasks/reference/rest/v1/tasks/update
def update_task(ctx):
    return write_task(ctx, "update")


# https://developers.google.com/tasks/reference/rest/v1/tasks/delete
def delete_task(ctx):
    ctx.params([])
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    t = get_task_obj(ctx, lid, ctx.match.group("task"))
    tasks = ctx.u["tasks"][lid]
    todo = [t]
    while todo:
        x = todo.pop()
        x["deleted"] = True
        x["_seq"] = S_bump(ctx.u)
        x["updated"] = S.now_rfc3339()
        todo.extend(y for y in tasks.values() if y.get("parent") == x["id"] and not y.get("deleted"))
    return 204, None


# https://developers.google.com/tasks/reference/rest/v1/tasks/move
def move_task(ctx):
    P = ctx.params(["parent", "previous", "destinationTasklist"])
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    t = get_task_obj(ctx, lid, ctx.match.group("task"))
    dest = P.str("destinationTasklist") or lid
    dlid, _ = resolve_list(ctx, dest)
    tasks = ctx.u["tasks"][dlid]
    parent, previous = P.str("parent") or None, P.str("previous") or None
    if parent:
        p = tasks.get(parent)
        if p is None or p.get("deleted") or p.get("hidden") or parent == t["id"]:
            raise bad("The task set as parent must exist in the task list and can not be hidden.",
                      location="parent")
        if t.get("hidden") and t.get("status") == "completed":
            raise bad("Tasks that are both completed and hidden cannot be nested.", location="parent")
        anc = p
        while anc is not None:
            if anc["id"] == t["id"]:
                raise bad("A task cannot be moved under its own subtask.", location="parent")
            anc = tasks.get(anc.get("parent"))
    if previous:
        pv = tasks.get(previous)
        if pv is None or pv.get("hidden") or (pv.get("parent") or None) != parent or previous == t["id"]:
            raise bad("The task set as previous must exist in the task list, be a sibling and not be hidden.",
                      location="previous")
    if dlid != lid:
        # subtasks travel with their parent
        moving = [t]
        i = 0
        while i < len(moving):
            moving.extend(x for x in ctx.u["tasks"][lid].values() if x.get("parent") == moving[i]["id"])
            i += 1
        for x in moving:
            del ctx.u["tasks"][lid][x["id"]]
            tasks[x["id"]] = x
    place(tasks, t, parent, previous)
    t["_seq"] = S_bump(ctx.u)
    t["updated"] = S.now_rfc3339()
    return render_task(dlid, t)


# https://developers.google.com/tasks/reference/rest/v1/tasks/clear
def clear_tasks(ctx):
    """"Clears all completed tasks from the specified task list. The affected
    tasks will be marked as 'hidden' and no longer be returned by default"."""
    ctx.params([])
    lid, _ = resolve_list(ctx, ctx.match.group("tasklist"))
    for t in ctx.u["tasks"][lid].values():
        if t.get("status") == "completed" and not t.get("hidden") and not t.get("deleted"):
            t["hidden"] = True
            t["_seq"] = S_bump(ctx.u)
            t["updated"] = S.now_rfc3339()
    return 204, None


def seed(store, u, data):
    """POST /_fake/seed: {"tasklists": [{"title": ..., "tasks": [Task + optional "hidden",
    "parent" given as the index of an earlier task in the same list]}]}"""
    made = {"tasklists": []}
    for tl in data.get("tasklists") or []:
        lst = new_list(u, check_list_body({"title": tl["title"]}))
        made["tasklists"].append(lst["id"])
        ids = []
        for tb in tl.get("tasks") or []:
            body = {k: v for k, v in tb.items() if k not in ("hidden", "parent")}
            check_task(body, "insert")
            parent = ids[tb["parent"]] if isinstance(tb.get("parent"), int) else None
            prev = [x for x in u["tasks"][lst["id"]].values() if x.get("parent") == parent]
            last = max(prev, key=lambda x: x["_order"])["id"] if prev else None
            t = new_task(u, lst["id"], body, parent, last)
            if tb.get("hidden"):
                t["hidden"] = True
            ids.append(t["id"])
    return made


B = "/tasks/v1"
ROUTES = [
    C.route("GET", B + "/users/@me/lists", list_lists, API, READ, "tasks.tasklists.list"),
    C.route("POST", B + "/users/@me/lists", insert_list, API, WRITE, "tasks.tasklists.insert", body=True),
    C.route("GET", B + "/users/@me/lists/{tasklist}", get_list, API, READ, "tasks.tasklists.get"),
    C.route("GET", B + "/lists/{tasklist}/tasks", list_tasks, API, READ, "tasks.tasks.list"),
    C.route("POST", B + "/lists/{tasklist}/tasks", insert_task, API, WRITE, "tasks.tasks.insert", body=True),
    C.route("GET", B + "/lists/{tasklist}/tasks/{task}", get_task, API, READ, "tasks.tasks.get"),
    C.route("PATCH", B + "/lists/{tasklist}/tasks/{task}", patch_task, API, WRITE, "tasks.tasks.patch", body=True),
    C.route("PUT", B + "/lists/{tasklist}/tasks/{task}", update_task, API, WRITE, "tasks.tasks.update", body=True),
    C.route("DELETE", B + "/lists/{tasklist}/tasks/{task}", delete_task, API, WRITE, "tasks.tasks.delete"),
    C.route("POST", B + "/lists/{tasklist}/tasks/{task}/move", move_task, API, WRITE, "tasks.tasks.move"),
    C.route("POST", B + "/lists/{tasklist}/clear", clear_tasks, API, WRITE, "tasks.tasks.clear"),
]
