"""Microsoft To Do task lists and tasks (Microsoft Graph v1.0).

Loaded by server.py under the module name ``msfake_todo``.

References (https://learn.microsoft.com/graph/api/ + page):
  resources/todotasklist, resources/todotask, resources/itembody, resources/datetimetimezone,
  resources/patternedrecurrence; todo-list-lists, todo-post-lists, todotasklist-get,
  todotasklist-update, todotasklist-delete, todotasklist-delta, todotasklist-list-tasks,
  todotasklist-post-tasks, todotask-get, todotask-update, todotask-delete, todotask-delta,
  resources/checklistitem, todotask-list-checklistitems, todotask-post-checklistitems,
  checklistitem-get, checklistitem-update, checklistitem-delete.
"""
import uuid

import msfake_common as C
import msfake_store as S

READ = ["Tasks.Read", "Tasks.ReadWrite"]
WRITE = ["Tasks.ReadWrite"]
DEFAULT_PAGE = 10
TOP_MAX = 1000
DELTA_PAGE = 200

LIST_PROPS = ["id", "displayName", "isOwner", "isShared", "wellknownListName"]
TASK_PROPS = ["id", "title", "body", "categories", "completedDateTime", "dueDateTime", "reminderDateTime",
              "startDateTime", "importance", "isReminderOn", "recurrence", "status", "hasAttachments",
              "createdDateTime", "lastModifiedDateTime", "bodyLastModifiedDateTime"]
TASK_READ_ONLY = {"id", "createdDateTime", "lastModifiedDateTime", "bodyLastModifiedDateTime", "hasAttachments"}
DTTZ = ["completedDateTime", "dueDateTime", "reminderDateTime", "startDateTime"]
STATUS = ["notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"]
IMPORTANCE = ["low", "normal", "high"]
IGNORED = {"@odata.etag", "@odata.type", "@odata.context"}
RELATIONS = {"checklistItems", "linkedResources", "extensions", "attachments"}


def ensure(ctx_or_store, u):
    """Users from older state files or created before To Do was touched get the
    built-in lists: "Tasks" (defaultList) and "Flagged Emails" (flaggedEmails)."""
    if "todo_lists" not in u:
        u["todo_lists"], u["todo_tasks"] = {}, {}
        for name, wk in (("Tasks", "defaultList"), ("Flagged Emails", "flaggedEmails")):
            lid = S.new_id("AQMkAD")
            u["todo_lists"][lid] = {"id": lid, "displayName": name, "isOwner": True, "isShared": False,
                                    "wellknownListName": wk, "_seq": 0, "_created": "0"}
    return u


def render_list(x, select=None):
    out = {"@odata.etag": 'W/"%s"' % x.get("_ck", x["id"][-12:])}
    out.update({k: x.get(k) for k in LIST_PROPS if select is None or k in select or k == "id"})
    return out


def render_task(t, select=None):
    out = {"@odata.etag": 'W/"%s"' % t["_ck"]}
    out.update({k: t.get(k) for k in TASK_PROPS if select is None or k in select or k == "id"})
    return S.public(out)


def select_of(props):
    def parse(p):
        sel = p.str("$select")
        if sel is None:
            return None
        names = [s.strip() for s in sel.split(",")]
        for n in names:
            if n not in props:
                raise C.bad("Could not find a property named '%s' on this type." % n)
        return set(names)
    return parse


def list_of(ctx, lid):
    ensure(ctx.store, ctx.u)
    x = ctx.u["todo_lists"].get(lid)
    if x is None or x.get("_deleted"):
        raise C.not_found()
    return x


def task_of(ctx, lst, tid):
    t = ctx.u["todo_tasks"].get(tid)
    if t is None or t.get("_deleted") or t["_list"] != lst["id"]:
        raise C.not_found()
    return t


def with_context(ctx, obj, name):
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + name}
    out.update(obj)
    return out


# ---- lists ----------------------------------------------------------------------------

def check_list_body(body, creating):
    for k, v in body.items():
        if k in IGNORED or k in ("id", "isOwner", "isShared", "wellknownListName"):
            continue
        if k != "displayName":
            raise C.body_unknown(k, "todoTaskList")
        if not isinstance(v, str):
            raise C.type_error(k, "Edm.String", v)
    if creating and not (body.get("displayName") or "").strip():
        raise C.bad("displayName is required.", "invalidRequest")


def get_lists(ctx):
    """GET /v1.0/me/todo/lists -- https://learn.microsoft.com/graph/api/todo-list-lists"""
    ensure(ctx.store, ctx.u)
    ctx.context_name = "users('%s')/todo/lists" % ctx.user
    items = [x for x in ctx.u["todo_lists"].values() if not x.get("_deleted")]
    return C.page_collection(ctx, items, render_list, select_of(LIST_PROPS), None, {"displayName"},
                             DEFAULT_PAGE, TOP_MAX, sort_key=lambda x: (x.get("_created"), x["id"]))


def create_list(ctx):
    """POST /v1.0/me/todo/lists -- https://learn.microsoft.com/graph/api/todo-post-lists"""
    ctx.params(set())
    ensure(ctx.store, ctx.u)
    check_list_body(ctx.body, True)
    lid = S.new_id("AAMkAD")
    x = {"id": lid, "displayName": ctx.body["displayName"], "isOwner": True, "isShared": False,
         "wellknownListName": "none", "_seq": ctx.store.bump(ctx.u), "_created": S.now_iso(),
         "_ck": S.new_change_key()}
    ctx.u["todo_lists"][lid] = x
    return 201, with_context(ctx, render_list(x), "users('%s')/todo/lists/$entity" % ctx.user)


def get_list(ctx):
    """GET /v1.0/me/todo/lists/{id} -- https://learn.microsoft.com/graph/api/todotasklist-get"""
    ctx.params({"$select"})
    return with_context(ctx, render_list(list_of(ctx, ctx.match["lid"])), "users('%s')/todo/lists/$entity" % ctx.user)


def update_list(ctx):
    """PATCH /v1.0/me/todo/lists/{id} -- https://learn.microsoft.com/graph/api/todotasklist-update"""
    ctx.params(set())
    x = list_of(ctx, ctx.match["lid"])
    check_list_body(ctx.body, False)
    if "displayName" in ctx.body:
        if x["wellknownListName"] != "none":
            raise C.bad("Built-in task lists cannot be renamed.", "invalidRequest")
        if not ctx.body["displayName"].strip():
            raise C.bad("displayName must not be empty.", "invalidRequest")
        x["displayName"] = ctx.body["displayName"]
    x["_seq"] = ctx.store.bump(ctx.u)
    x["_ck"] = S.new_change_key()
    return with_context(ctx, render_list(x), "users('%s')/todo/lists/$entity" % ctx.user)


def delete_list(ctx):
    """DELETE /v1.0/me/todo/lists/{id} -- https://learn.microsoft.com/graph/api/todotasklist-delete"""
    ctx.params(set())
    x = list_of(ctx, ctx.match["lid"])
    if x["wellknownListName"] != "none":
        raise C.bad("Built-in task lists cannot be deleted.", "invalidRequest")
    u = ctx.u
    u["todo_lists"][x["id"]] = {"id": x["id"], "_deleted": True, "_seq": ctx.store.bump(u)}
    for t in list(u["todo_tasks"].values()):
        if t["_list"] == x["id"] and not t.get("_deleted"):
            u["todo_tasks"][t["id"]] = {"id": t["id"], "_list": x["id"], "_deleted": True, "_seq": ctx.store.bump(u)}
    return 204, None


def lists_delta(ctx):
    """GET /v1.0/me/todo/lists/delta -- https://learn.microsoft.com/graph/api/todotasklist-delta"""
    ensure(ctx.store, ctx.u)
    return C.delta_response(ctx, "todolists", list(ctx.u["todo_lists"].values()), select_of(LIST_PROPS),
                            render_list, "todoTaskList", DELTA_PAGE, DELTA_PAGE)


# ---- tasks ----------------------------------------------------------------------------

def check_task(body):
    out = {}
    for k, v in body.items():
        if k in IGNORED or k in TASK_READ_ONLY:
            continue
        if k in RELATIONS:
            raise C.bad("Relationship '%s' is not supported by this fake in a task body." % k, "invalidRequest")
        if k == "title":
            if v is not None and not isinstance(v, str):
                raise C.type_error(k, "Edm.String", v)
        elif k == "body":
            if v is not None:
                C.check_members(v, {"content", "contentType"}, "itemBody", k)
                if v.get("contentType", "text") not in ("text", "html"):
                    raise C.bad("body.contentType must be text or html.", "invalidRequest")
                if v.get("content") is not None and not isinstance(v["content"], str):
                    raise C.type_error("content", "Edm.String", v["content"])
                v = {"content": v.get("content") or "", "contentType": v.get("contentType", "text")}
        elif k == "categories":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise C.type_error(k, "Collection(Edm.String)", v)
        elif k in DTTZ:
            if v is not None:
                v = C.check_dttz(v, k)
        elif k == "importance":
            if v not in IMPORTANCE:
                raise C.body_error("The value '%s' is not a valid importance (%s)." % (v, ", ".join(IMPORTANCE)))
        elif k == "status":
            if v not in STATUS:
                raise C.body_error("The value '%s' is not a valid taskStatus (%s)." % (v, ", ".join(STATUS)))
        elif k == "isReminderOn":
            if not isinstance(v, bool):
                raise C.type_error(k, "Edm.Boolean", v)
        elif k == "recurrence":
            if v is not None:
                v = C.check_recurrence(v)
        else:
            raise C.body_unknown(k, "todoTask")
        out[k] = v
    return out


def list_tasks(ctx):
    """GET /v1.0/me/todo/lists/{id}/tasks -- https://learn.microsoft.com/graph/api/todotasklist-list-tasks"""
    lst = list_of(ctx, ctx.match["lid"])
    ctx.context_name = "users('%s')/todo/lists('%s')/tasks" % (ctx.user, lst["id"])
    items = [t for t in ctx.u["todo_tasks"].values() if t["_list"] == lst["id"] and not t.get("_deleted")]
    return C.page_collection(ctx, items, render_task, select_of(TASK_PROPS), None,
                             {"title", "createdDateTime", "lastModifiedDateTime", "importance", "status"},
                             DEFAULT_PAGE, TOP_MAX)


def new_task(ctx, lst, fields):
    now = S.now_iso()
    t = {"importance": "normal", "isReminderOn": False, "status": "notStarted", "title": None,
         "body": {"content": "", "contentType": "text"}, "categories": [], "hasAttachments": False,
         "completedDateTime": None, "dueDateTime": None, "reminderDateTime": None, "startDateTime": None,
         "recurrence": None}
    t.update(fields)
    tid = S.new_id("AAMkAD")
    t.update({"id": tid, "createdDateTime": now, "lastModifiedDateTime": now, "bodyLastModifiedDateTime": now,
              "_list": lst["id"], "_ck": S.new_change_key(), "_seq": ctx.store.bump(ctx.u)})
    ctx.u["todo_tasks"][tid] = t
    return t


def create_task(ctx):
    """POST /v1.0/me/todo/lists/{id}/tasks -- https://learn.microsoft.com/graph/api/todotasklist-post-tasks"""
    ctx.params(set())
    lst = list_of(ctx, ctx.match["lid"])
    t = new_task(ctx, lst, check_task(ctx.body))
    return 201, with_context(ctx, render_task(t), "users('%s')/todo/lists('%s')/tasks/$entity" % (ctx.user, lst["id"]))


def get_task(ctx):
    """GET /v1.0/me/todo/lists/{id}/tasks/{taskId} -- https://learn.microsoft.com/graph/api/todotask-get"""
    p = ctx.params({"$select"})
    lst = list_of(ctx, ctx.match["lid"])
    t = task_of(ctx, lst, ctx.match["tid"])
    return with_context(ctx, render_task(t, select_of(TASK_PROPS)(p)),
                        "users('%s')/todo/lists('%s')/tasks/$entity" % (ctx.user, lst["id"]))


def update_task(ctx):
    """PATCH /v1.0/me/todo/lists/{id}/tasks/{taskId} -- https://learn.microsoft.com/graph/api/todotask-update"""
    ctx.params(set())
    lst = list_of(ctx, ctx.match["lid"])
    t = task_of(ctx, lst, ctx.match["tid"])
    fields = check_task(ctx.body)
    now = S.now_iso()
    for k, v in fields.items():
        if k == "body" and v is None:
            v = {"content": "", "contentType": "text"}
        if k == "categories" and v is None:
            v = []
        t[k] = v
    if "body" in fields:
        t["bodyLastModifiedDateTime"] = now
    t["lastModifiedDateTime"] = now
    t["_ck"] = S.new_change_key()
    t["_seq"] = ctx.store.bump(ctx.u)
    return with_context(ctx, render_task(t), "users('%s')/todo/lists('%s')/tasks/$entity" % (ctx.user, lst["id"]))


def delete_task(ctx):
    """DELETE /v1.0/me/todo/lists/{id}/tasks/{taskId} -- https://learn.microsoft.com/graph/api/todotask-delete"""
    ctx.params(set())
    lst = list_of(ctx, ctx.match["lid"])
    t = task_of(ctx, lst, ctx.match["tid"])
    ctx.u["todo_tasks"][t["id"]] = {"id": t["id"], "_list": lst["id"], "_deleted": True,
                                    "_seq": ctx.store.bump(ctx.u)}
    return 204, None


def tasks_delta(ctx):
    """GET /v1.0/me/todo/lists/{id}/tasks/delta -- https://learn.microsoft.com/graph/api/todotask-delta"""
    lst = list_of(ctx, ctx.match["lid"])
    items = [t for t in ctx.u["todo_tasks"].values() if t["_list"] == lst["id"]]
    return C.delta_response(ctx, "todotasks:" + lst["id"], items, select_of(TASK_PROPS), render_task, "todoTask",
                            DELTA_PAGE, DELTA_PAGE)


# ---- checklist items (a task's steps) ----------------------------------------------------

STEP_PROPS = ["id", "displayName", "isChecked", "checkedDateTime", "createdDateTime"]


def render_step(c):
    return {k: c.get(k) for k in STEP_PROPS}


def check_step(body, creating):
    """checklistItem body: displayName (String), isChecked (Boolean), checkedDateTime and
    createdDateTime (DateTimeOffset) may be given (todotask-post-checklistitems,
    checklistitem-update); `id` is the server's."""
    out = {}
    for k, v in body.items():
        if k in IGNORED or k == "id":
            continue
        if k == "displayName":
            if not isinstance(v, str):
                raise C.type_error(k, "Edm.String", v)
        elif k == "isChecked":
            if not isinstance(v, bool):
                raise C.type_error(k, "Edm.Boolean", v)
        elif k in ("checkedDateTime", "createdDateTime"):
            if v is not None:
                dt = C.parse_dto(v)
                if dt is None:
                    raise C.type_error(k, "Edm.DateTimeOffset", v)
                v = C.fmt_dto(dt)
        else:
            raise C.body_unknown(k, "checklistItem")
        out[k] = v
    if creating and not (out.get("displayName") or "").strip():
        raise C.bad("displayName is required.", "invalidRequest")
    return out


def steps_of(ctx):
    lst = list_of(ctx, ctx.match["lid"])
    t = task_of(ctx, lst, ctx.match["tid"])
    return lst, t, t.setdefault("_steps", [])


def step_of(ctx):
    lst, t, steps = steps_of(ctx)
    c = next((c for c in steps if c["id"] == ctx.match["cid"]), None)
    if c is None:
        raise C.not_found()
    return lst, t, c


def step_context(ctx, lst, t, entity=True):
    return "users('%s')/todo/lists('%s')/tasks('%s')/checklistItems%s" % (
        ctx.user, lst["id"], t["id"], "/$entity" if entity else "")


def new_step(t, fields):
    c = {"displayName": None, "isChecked": False, "checkedDateTime": None, "createdDateTime": S.now_iso()}
    c.update(fields)
    if c["isChecked"] and not c.get("checkedDateTime"):
        c["checkedDateTime"] = S.now_iso()
    c["id"] = str(uuid.uuid4())
    t.setdefault("_steps", []).append(c)
    return c


def list_steps(ctx):
    """GET .../tasks/{taskId}/checklistItems -- https://learn.microsoft.com/graph/api/todotask-list-checklistitems
    ("does not support OData query parameters": every item, one answer)."""
    ctx.params(set())
    lst, t, steps = steps_of(ctx)
    return with_context(ctx, {"value": [render_step(c) for c in steps]}, step_context(ctx, lst, t, False))


def create_step(ctx):
    """POST .../tasks/{taskId}/checklistItems -- https://learn.microsoft.com/graph/api/todotask-post-checklistitems"""
    ctx.params(set())
    lst, t, steps = steps_of(ctx)
    c = new_step(t, check_step(ctx.body, True))
    return 201, with_context(ctx, render_step(c), step_context(ctx, lst, t))


def get_step(ctx):
    """GET .../checklistItems/{id} -- https://learn.microsoft.com/graph/api/checklistitem-get"""
    ctx.params(set())
    lst, t, c = step_of(ctx)
    return with_context(ctx, render_step(c), step_context(ctx, lst, t))


def update_step(ctx):
    """PATCH .../checklistItems/{id} -- https://learn.microsoft.com/graph/api/checklistitem-update"""
    ctx.params(set())
    lst, t, c = step_of(ctx)
    fields = check_step(ctx.body, False)
    if "displayName" in fields and not (fields["displayName"] or "").strip():
        raise C.bad("displayName must not be empty.", "invalidRequest")
    c.update(fields)
    if "isChecked" in fields and "checkedDateTime" not in fields:
        c["checkedDateTime"] = S.now_iso() if c["isChecked"] else None
    return with_context(ctx, render_step(c), step_context(ctx, lst, t))


def delete_step(ctx):
    """DELETE .../checklistItems/{id} -- https://learn.microsoft.com/graph/api/checklistitem-delete"""
    ctx.params(set())
    lst, t, c = step_of(ctx)
    t["_steps"] = [x for x in t["_steps"] if x is not c]
    return 204, None


class _SeedCtx:
    def __init__(self, store, u):
        self.store, self.u = store, u


def seed(store, u, data):
    """{"todoLists": [{"displayName", "tasks": [todoTask...]}], "todoTasks": [... into the default list]}"""
    ensure(store, u)
    ctx = _SeedCtx(store, u)
    made = {}
    default = next(x for x in u["todo_lists"].values() if x.get("wellknownListName") == "defaultList")
    def task(lst, b):
        # a seeded task may hold its steps: {"checklistItems": [checklistItem...]}
        b = dict(b)
        steps = b.pop("checklistItems", None) or []
        t = new_task(ctx, lst, check_task(b))
        for c in steps:
            new_step(t, check_step(c, True))
        return t["id"]

    if data.get("todoTasks"):
        made["todoTasks"] = [task(default, b) for b in data["todoTasks"]]
    if data.get("todoLists"):
        made["todoLists"] = []
        for spec in data["todoLists"]:
            check_list_body({"displayName": spec.get("displayName")}, True)
            lid = S.new_id("AAMkAD")
            lst = {"id": lid, "displayName": spec["displayName"], "isOwner": True, "isShared": False,
                   "wellknownListName": "none", "_seq": store.bump(u), "_created": S.now_iso(),
                   "_ck": S.new_change_key()}
            u["todo_lists"][lid] = lst
            made["todoLists"].append({"id": lid, "tasks": [task(lst, b) for b in spec.get("tasks") or []]})
    made["defaultTodoListId"] = default["id"]
    return made


B = "/v1.0/me/todo/lists"
ROUTES = [
    C.route("GET", B, get_lists, READ, "todo.lists.list"),
    C.route("POST", B, create_list, WRITE, "todo.lists.create", body=True),
    C.route("GET", B + "/delta", lists_delta, READ, "todo.lists.delta"),
    C.route("GET", B + "/{lid}", get_list, READ, "todo.lists.get"),
    C.route("PATCH", B + "/{lid}", update_list, WRITE, "todo.lists.update", body=True),
    C.route("DELETE", B + "/{lid}", delete_list, WRITE, "todo.lists.delete"),
    C.route("GET", B + "/{lid}/tasks", list_tasks, READ, "todo.tasks.list"),
    C.route("POST", B + "/{lid}/tasks", create_task, WRITE, "todo.tasks.create", body=True),
    C.route("GET", B + "/{lid}/tasks/delta", tasks_delta, READ, "todo.tasks.delta"),
    C.route("GET", B + "/{lid}/tasks/{tid}", get_task, READ, "todo.tasks.get"),
    C.route("PATCH", B + "/{lid}/tasks/{tid}", update_task, WRITE, "todo.tasks.update", body=True),
    C.route("DELETE", B + "/{lid}/tasks/{tid}", delete_task, WRITE, "todo.tasks.delete"),
    C.route("GET", B + "/{lid}/tasks/{tid}/checklistItems", list_steps, READ, "todo.checklist.list"),
    C.route("POST", B + "/{lid}/tasks/{tid}/checklistItems", create_step, WRITE, "todo.checklist.create", body=True),
    C.route("GET", B + "/{lid}/tasks/{tid}/checklistItems/{cid}", get_step, READ, "todo.checklist.get"),
    C.route("PATCH", B + "/{lid}/tasks/{tid}/checklistItems/{cid}", update_step, WRITE, "todo.checklist.update", body=True),
    C.route("DELETE", B + "/{lid}/tasks/{tid}/checklistItems/{cid}", delete_step, WRITE, "todo.checklist.delete"),
]
