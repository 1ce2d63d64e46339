"""Who may vote: judges, organizers and an entry's author only where the contest allows it.

The public vote is the audience's. A judge or an organizer of the contest does not vote,
and nobody votes for their own entry, unless the contest's settings say otherwise
(``judges_may_vote``, ``organizers_may_vote``, ``authors_may_vote_for_own``, all off by
default). Today "of the contest" means a user of that role; the jury issue narrows it here,
and only here.

The rule has two forms built from the same table: ``refusal`` (the vote button, the general
path and SQLite) and ``REFUSAL_SQL`` (inside the vote's one statement, which writes nothing
when it names a refusal and returns that name: contest.voting.statement).
tests/test_vote_fast_path.py holds the two to the same answers.
"""

from __future__ import annotations

from contest.auth.models import Role

# A role that does not vote unless the contest's setting allows it, and the refusal's code.
ROLES_WITHOUT_VOTE = (
    (Role.judge, "judges_may_vote", "judges_do_not_vote"),
    (Role.organizer, "organizers_may_vote", "organizers_do_not_vote"),
)
OWN_ENTRY = "own_entry"
CODES = (*(code for _role, _setting, code in ROLES_WITHOUT_VOTE), OWN_ENTRY)


def refusal(contest, entry, voter) -> str | None:
    """Why ``voter`` may not vote for ``entry`` (a code of CODES), or None when they may.

    Takes the models or the vote's small rows (contest.voting.ballot) alike."""
    for role, setting, code in ROLES_WITHOUT_VOTE:
        if voter.role is role and not getattr(contest, setting):
            return code
    if entry.author_id == voter.id and not contest.authors_may_vote_for_own:
        return OWN_ENTRY
    return None


def _refusal_sql() -> str:
    """``refusal`` on the statement's rows: ``e`` (entries), ``c`` (contests), ``u`` (users).
    The role column holds the enum's names (SQLAlchemy's Enum)."""
    roles = "".join(
        f"WHEN u.role = '{role.name}' AND NOT c.{setting} THEN '{code}' "
        for role, setting, code in ROLES_WITHOUT_VOTE
    )
    return f"CASE {roles}WHEN e.author_id = u.id AND NOT c.authors_may_vote_for_own THEN '{OWN_ENTRY}' END"


REFUSAL_SQL = _refusal_sql()
