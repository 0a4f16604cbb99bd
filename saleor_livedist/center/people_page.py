"""The page of My customers and prospects, and its forms: add or remove a tag, save a note."""
from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from . import people
from .pages import Center, Route


def people_page(center: Center, error: str = "", status: int = 200) -> HttpResponse:
    stage, tag = center.query("stage"), center.query("tag")
    return center.render("people.html", {
        "title": _("Customers and prospects"), "rows": people.people_of(center.identity, stage, tag),
        "stage": stage, "tag": tag, "tags": people.tags_of(center.identity),
        "stages": [(key, name) for key, name in people.STAGES.items()], "error": error},
        status=status, area="people/")


def change(center: Center) -> HttpResponse:
    """POST action=tag|untag|note, person=<ref>, tag or note."""
    post = center.request.POST
    action, ref = post.get("action", ""), post.get("person", "")
    try:
        if action == "tag":
            people.add_tag(center.identity, ref, post.get("tag", ""))
        elif action == "untag":
            people.remove_tag(center.identity, ref, post.get("tag", ""))
        elif action == "note":
            people.save_note(center.identity, ref, post.get("note", ""))
        else:
            raise ServiceError("action", "INVALID", _("unknown action %(action)r") % {"action": action})
    except ServiceError as exc:
        return people_page(center, error=exc.message, status=404 if exc.code == "NOT_YOUR_CUSTOMER" else 400)
    return HttpResponseRedirect(center.url("people/", stage=center.query("stage"), tag=center.query("tag"))
                                + f"#p-{ref}", status=303)


ROUTES = [Route("people/", get=people_page, post=change)]
