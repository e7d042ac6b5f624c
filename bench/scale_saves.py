"""Saving a key and a member with 2,000 of the largest operator's 3,000 facilities through the
facility picker's one field, beside the demo account (bench/scale.py runs it after its page
table). Before the picker such a key answered 400 TooManyFieldsSent: it could not even be
renamed.

For each account, as its owner, through the production harness: one warm-up round, then
`rounds` measured rounds, the two accounts in turn, each round with names of its own:
  1. Create API Key ("Save & Submit") with the chosen facilities;
  2. the key's page: rename it, its facilities posted again as the page holds them;
  3. the key's page: edit it (remove the first chosen facility, add one more);
  4. Add User (an invitation) with the chosen facilities; the invitation is then accepted in
     this process through `membership_accept`, as the person does by setting a password;
  5. the member's "Save Changes": rename them;
  6. "Save Changes": edit them (remove one, add one).
Each form is opened first (GET, not measured) as a browser does, for its CSRF token and to
check that it still has every field posted. The warm-up's first "Save Changes" answers the
confirm page of @recently_confirmed: the owner's password and the form that page carries
are posted from it, as a browser does; the session then stays confirmed for the rounds.

Chosen: two thirds of the account's facilities in pk order (2,000 of 3,000; 200 of 300 with
--ci; 2 of the demo's 3); the next facility is the one an edit adds. A save counts only when
it answers 302 and the database then holds exactly what was posted.

Clean-up: the keys made here (named "Bench save …") are deleted from the database (nothing
refers to them: they never made a lookup), and so are the memberships (addresses
"bench-save-…"). Their users stay: the Activity line of each acceptance names its user
(AuditEvent.actor protects it), so the addresses carry the run's time and never collide.
Leftovers of an interrupted run go the same way before the pages are measured.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import unescape
from typing import Protocol
from urllib.parse import urlencode

from harness import production

SAVE_BUDGET_MS = 1000.0
KEY_PREFIX = "Bench save"
EMAIL_PREFIX = "bench-save-"
ROLE = "client_call_center"
MEMBER_PASSWORD = "bench-save-member-password"  # noqa: S105 - the bench's own members
STEPS = {
    "key_create": "Create API Key with the chosen facilities (Save & Submit)",
    "key_rename": "API key: rename (its facilities posted again)",
    "key_edit": "API key: edit (remove one facility, add one)",
    "member_add": "Add User with the chosen facilities",
    "member_rename": "Member: rename (Save Changes)",
    "member_edit": "Member: edit (remove one facility, add one)",
}
CONFIRM_HEADING = "Confirm it is you</h1>"
_HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class Owner(Protocol):
    slug: str
    owner_email: str
    password: str


# --- What is posted ------------------------------------------------------------------------


def chosen_count(facilities: int) -> int:
    """Two thirds of the account's facilities: 2,000 of 3,000, 2 of the demo's 3."""
    return facilities * 2 // 3


def edited(facility_ids: Sequence[str], spare: str) -> list[str]:
    """An edit of the chosen set: the first facility removed, `spare` added."""
    return [*facility_ids[1:], spare]


def _picker(facility_ids: Sequence[str]) -> dict[str, str]:
    # What the picker posts when the form's Save button is pressed: its empty search box, the
    # search it last ran (none), and the chosen Facility IDs in one text area, one a line.
    return {"facilities_q": "", "facilities_searched": "", "facilities": "\n".join(facility_ids)}


def key_form(
    *, csrf: str, name: str, facility_ids: Sequence[str], detail: bool = False
) -> dict[str, str]:
    """Create API Key (or, with `detail`, the key's page) saved with All Facilities off: an
    unchecked switch is not posted; Read lock information, checked, is. The key's page adds
    an empty expiry and IP ranges."""
    form = {
        "csrfmiddlewaretoken": csrf,
        "name": name,
        "permissions": "read",
        **_picker(facility_ids),
    }
    if detail:
        form |= {"expires_on": "", "allowed_ips": ""}
    return form


def member_form(
    *, csrf: str, name: str, email: str, facility_ids: Sequence[str], edit: bool = False
) -> dict[str, str]:
    """Add User (or, with `edit`, "Save Changes" of an active member) with All Facilities off.
    A member who accepted has the address they set: the edit page shows it disabled, and a
    browser posts no disabled field."""
    form = {"csrfmiddlewaretoken": csrf, "name": name, "role": ROLE, **_picker(facility_ids)}
    if edit:
        form["is_active"] = "on"
    else:
        form["email"] = email
    return form


def fields_missing(form: dict[str, str], page: str) -> list[str]:
    """The posted fields the form's page does not have (the bench would be out of date)."""
    return [name for name in form if f'name="{name}"' not in page]


def carried_fields(page: str) -> dict[str, str]:
    """The form a confirm page carries: the hidden inputs of its form (after its heading;
    the page's other forms, such as the navigation's, have hidden inputs too), but the
    CSRF token."""
    start = page.find(CONFIRM_HEADING)
    form = page[start : page.find("</form>", start)] if start >= 0 else ""
    return {
        name: unescape(value)
        for name, value in _HIDDEN_INPUT.findall(form)
        if name != "csrfmiddlewaretoken"
    }


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class SaveSample:
    status: int
    server_ms: float
    queries: int | None
    fields: int
    form_bytes: int
    problem: str = ""


@dataclass
class SaveRow:
    step: str
    warm_up: dict[str, SaveSample]
    rounds: dict[str, list[SaveSample]]
    breaches: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STEPS[self.step]

    def median(self, account: str, attribute: str) -> float:
        values = [getattr(s, attribute) for s in self.rounds[account]]
        values = [value for value in values if value is not None]
        return statistics.median(values) if values else float("nan")


class Saver:
    """One account's owner saving keys and members through a session of their own."""

    def __init__(self, port: int, owner: Owner, run: str):
        from facilities.models import Facility

        self.owner, self.run = owner, run
        self.client = production.Http(port, timeout=65)
        answer = self.client.sign_in(owner.owner_email, owner.password)
        if answer.status != 302:
            raise SystemExit(f"{owner.owner_email} could not sign in: {answer.status}")
        ids = list(
            Facility.objects.filter(account__slug=owner.slug)
            .order_by("pk")
            .values_list("facility_id", flat=True)
        )
        count = chosen_count(len(ids))
        self.chosen, self.spare = ids[:count], ids[count]
        self.confirmation = ""  # what the confirm page took, once

    def round(self, index: int) -> dict[str, SaveSample]:
        from django.urls import reverse

        from davinci.accounts.models import Membership
        from integrations.models import ApiKey

        # The account in the address: the same address in both accounts would invite the
        # large account's user to the demo's, a path of its own.
        name = f"{KEY_PREFIX} {self.run}-{index}"
        email = f"{EMAIL_PREFIX}{self.owner.slug}-{self.run}-{index}@example.com"
        changed = edited(self.chosen, self.spare)
        samples = {}

        def key_holds(name: str, ids: Sequence[str]) -> Callable[[], str]:
            return lambda: _holds(
                ApiKey.objects.filter(account__slug=self.owner.slug, name=name), "key", ids
            )

        def member_holds(name: str, ids: Sequence[str]) -> Callable[[], str]:
            members = Membership.objects.filter(
                account__slug=self.owner.slug, user__email=email, user__name=name
            )
            return lambda: _holds(members, "member", ids)

        def key_form_for(title: str, ids: Sequence[str], detail: bool):
            return lambda csrf: key_form(csrf=csrf, name=title, facility_ids=ids, detail=detail)

        def member_form_for(title: str, ids: Sequence[str], edit: bool):
            return lambda csrf: member_form(
                csrf=csrf, name=title, email=email, facility_ids=ids, edit=edit
            )

        create = reverse("integrations:api_key_create")
        samples["key_create"] = self.save(
            create, key_form_for(name, self.chosen, False), key_holds(name, self.chosen)
        )
        key = ApiKey.objects.filter(account__slug=self.owner.slug, name=name).first()
        if key is not None:
            page = reverse("integrations:api_key_detail", args=[key.pk])
            renamed = f"{name} renamed"
            samples["key_rename"] = self.save(
                page, key_form_for(renamed, self.chosen, True), key_holds(renamed, self.chosen)
            )
            samples["key_edit"] = self.save(
                page, key_form_for(renamed, changed, True), key_holds(renamed, changed)
            )
        person = f"Bench Save {self.run}-{index}"
        samples["member_add"] = self.save(
            reverse("team:member_add"),
            member_form_for(person, self.chosen, False),
            member_holds(person, self.chosen),
        )
        member = Membership.objects.filter(account__slug=self.owner.slug, user__email=email).first()
        if member is not None:
            accept_invitation(member)
            page = reverse("team:member_edit", args=[member.pk])
            renamed = f"{person} renamed"
            samples["member_rename"] = self.save(
                page,
                member_form_for(renamed, self.chosen, True),
                member_holds(renamed, self.chosen),
            )
            samples["member_edit"] = self.save(
                page, member_form_for(renamed, changed, True), member_holds(renamed, changed)
            )
        return samples

    def save(
        self, path: str, build: Callable[[str], dict[str, str]], check: Callable[[], str]
    ) -> SaveSample:
        """Open the form, post it as its Save button does, and read back what was saved."""
        page = self.client.get(path)
        if page.status != 200:
            raise SystemExit(f"{path} answered {page.status} to the owner")
        form = build(production.csrf_token(page))
        missing = fields_missing(form, page.text)
        if missing:
            raise SystemExit(f"{path} has no field {', '.join(missing)}: update the bench")
        answer = self.client.post(path, form)
        if answer.status == 200 and not self.confirmation and _is_confirm_page(answer):
            answer, form = self._confirm(path, form, answer)
        sample = SaveSample(
            status=answer.status,
            server_ms=float(answer.headers.get("x-bench-server-ms", "nan")),
            queries=int(answer.headers["x-bench-queries"])
            if "x-bench-queries" in answer.headers
            else None,
            fields=len(form),
            form_bytes=len(urlencode(form)),
        )
        if answer.status != 302:
            why = " (TooManyFieldsSent?)" if answer.status == 400 else ""
            sample.problem = f"answered {answer.status}{why}, expected 302"
        else:
            sample.problem = check()
        return sample

    def _confirm(self, path: str, form: dict[str, str], page: production.Response):
        """Answer the confirm page as a browser does: the password, and the form it carries
        (which must be the form posted, all its Facility IDs included)."""
        carried = carried_fields(page.text)
        posted = {name: value for name, value in form.items() if name != "csrfmiddlewaretoken"}
        confirmed = {
            **carried,
            "csrfmiddlewaretoken": production.csrf_token(page),
            "password": self.owner.password,
        }
        answer = self.client.post(path, confirmed)
        self.confirmation = (
            f"{path}: the first Save Changes answered the confirm page "
            f"({len(page.body) / 1024:,.1f} KB, carrying {len(carried)} fields, "
            f"{'the form as posted' if carried == posted else '**not** the form posted'}); "
            f"the password and the carried form answered {answer.status} in "
            f"{answer.headers.get('x-bench-server-ms', '?')} ms"
        )
        return answer, confirmed


def _is_confirm_page(answer: production.Response) -> bool:
    return CONFIRM_HEADING in answer.text and 'name="password"' in answer.text


def _holds(rows, what: str, ids: Sequence[str]) -> str:
    """ "" when exactly one of `rows` holds exactly the facilities `ids`, else what is wrong."""
    found = list(rows[:2])
    if len(found) != 1:
        return f"{len(found)} {what}s saved under that name, expected 1"
    record = found[0]
    saved = set(record.facilities.values_list("facility_id", flat=True))
    if record.all_facilities or saved != set(ids):
        return f"the {what} holds {len(saved):,} facilities, {len(ids):,} were posted"
    return ""


def accept_invitation(member) -> None:
    """The invited person sets their password, which accepts (team.views' invitation link)."""
    from davinci.accounts.services import membership_accept

    user = member.user
    user.set_password(MEMBER_PASSWORD)
    user.save(update_fields=["password"])
    membership_accept(membership_id=member.pk, user=user, ip=None)


def clean_up() -> tuple[int, int]:
    """Delete the keys and memberships the saves made; (keys, memberships) deleted."""
    from davinci.accounts.models import Membership
    from integrations.models import ApiKey

    keys = ApiKey.objects.filter(name__startswith=KEY_PREFIX)
    key_count = keys.count()
    keys.delete()
    members = Membership.objects.filter(user__email__startswith=EMAIL_PREFIX)
    member_count = members.count()
    members.delete()
    return key_count, member_count


def measure(port: int, owners: dict[str, Owner], rounds: int) -> tuple[list[SaveRow], str]:
    """Every step of STEPS for each account: a warm-up round, then `rounds` rounds, the
    accounts in turn; the rows, judged, and what the confirm page took. Cleans up after."""
    run = time.strftime("%Y%m%d%H%M%S")
    try:
        savers = {account: Saver(port, owner, run) for account, owner in owners.items()}
        results: dict[str, list[dict[str, SaveSample]]] = {account: [] for account in owners}
        for index in range(rounds + 1):
            for account, saver in savers.items():
                results[account].append(saver.round(index))
    finally:
        clean_up()
    rows = []
    for step in STEPS:
        missing = SaveSample(0, float("nan"), None, 0, 0, "not saved: an earlier step failed")
        row = SaveRow(
            step,
            warm_up={account: done[0].get(step, missing) for account, done in results.items()},
            rounds={
                account: [each.get(step, missing) for each in done[1:]]
                for account, done in results.items()
            },
        )
        judge(row)
        rows.append(row)
    confirmations = "; ".join(saver.confirmation for saver in savers.values() if saver.confirmation)
    return rows, confirmations


def judge(row: SaveRow) -> None:
    """The budget of a save: 302 and the record holding what was posted in every round
    (the warm-up too), a median server time <= SAVE_BUDGET_MS, and the same number of
    queries for the large account as for the demo's (2,000 facilities cost no more
    statements than 2)."""
    for account in row.rounds:
        samples = [row.warm_up[account], *row.rounds[account]]
        problems = sorted({sample.problem for sample in samples if sample.problem})
        row.breaches += [f"{account}: {problem}" for problem in problems]
        if row.median(account, "server_ms") > SAVE_BUDGET_MS:
            row.breaches.append(f"{account}: over {SAVE_BUDGET_MS:.0f} ms")
    large, demo = row.median("large", "queries"), row.median("demo", "queries")
    if large != demo:
        row.breaches.append(f"{large:g} queries, the demo {demo:g}")


HEADER = (
    "| save | demo ms | large ms | demo queries | large queries | large form: fields, KB "
    "| within budget |"
)


def line(row: SaveRow) -> str:
    large = row.rounds["large"][0] if row.rounds["large"] else row.warm_up["large"]
    verdict = "yes" if not row.breaches else "**no**: " + "; ".join(row.breaches)
    return (
        f"| {row.label} | {_ms(row.median('demo', 'server_ms'))} "
        f"| {_ms(row.median('large', 'server_ms'))} | {row.median('demo', 'queries'):g} "
        f"| {row.median('large', 'queries'):g} | {large.fields}, {large.form_bytes / 1024:,.1f} "
        f"| {verdict} |"
    )


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"  # NaN: no figure
