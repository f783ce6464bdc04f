# The entrypoint, data.warden.decision: combines the findings of sql.rego
# and shell.rego into the output of docs/policy-contract.md.
#
# An item is one SQL statement (key: its position) or the command as a whole
# (key: "command", for parse errors and shell findings). An item is denied
# when it has a deny finding, reviewed when it has a review finding that no
# active grant covers, allowed otherwise. The command gets the most
# restrictive action of its items (deny > review > allow).
package warden

import data.warden.grants
import data.warden.mask
import data.warden.request
import data.warden.settings
import data.warden.shell
import data.warden.sql

# Never undefined: anything that keeps the evaluated decision from being
# defined is a deny.
default decision := {
	"action": "deny",
	"reasons": [{"code": "input.invalid", "message": "the request could not be evaluated"}],
	"statements": [],
	"mask": {"rules": []},
	"grants_used": [],
}

decision := evaluated if {
	request.valid
} else := invalid

invalid := {
	"action": "deny",
	"reasons": [{
		"code": "input.invalid",
		"message": concat("", ["the request is malformed: ", concat("; ", sort(request.problems))]),
	}],
	"statements": [],
	"mask": {"rules": sort(mask.all_ids)},
	"grants_used": [],
}

# The common case, a command without any finding, is answered directly.
evaluated := quiet if {
	count(deny_findings) == 0
	count(review_findings) == 0
} else := object.union(result, {"review": review}) if {
	action == "review"
} else := result

quiet := {
	"action": "allow",
	"reasons": [],
	"statements": [{"index": statement_index(i), "action": "allow", "reasons": []} | some i, _ in request.statements],
	"mask": {"rules": mask.rules},
	"grants_used": [],
}

result := {
	"action": action,
	"reasons": reasons,
	"statements": statements,
	"mask": {"rules": mask.rules},
	"grants_used": grants_used,
}

# ---------------------------------------------------------------------------
# findings and items
#
# This runs for every command, and most commands have no finding at all:
# everything below is cheap when deny_findings and review_findings are
# empty, and the ordering and grant work only happens when there are some.

deny_findings := sql.deny if {
	request.is_sql
} else := shell.deny

review_findings := sql.review if {
	request.is_sql
} else := shell.review

# Review findings that no active grant covers.
open_reviews := review_findings if {
	count(review_findings) == 0
} else := review_findings if {
	count(grants.active) == 0
} else := {f | some f in review_findings; not grants.cover(f)}

deny_keys := {f.key | some f in deny_findings}

review_keys := {f.key | some f in open_reviews}

item_action(key) := "deny" if {
	key in deny_keys
} else := "review" if {
	key in review_keys
} else := "allow"

# The findings that make the command's action, and so its reasons.
action_findings := deny_findings if {
	action == "deny"
} else := open_reviews if {
	action == "review"
} else := set()

# Reasons ordered by item (statements in order, then the command as a
# whole: numbers sort before strings), then code, then message, the same in
# every engine.
ordered_reasons(findings) := [reason(t[0], t[1], t[2]) |
	some t in sort({[f.key, f.code, f.message] | some f in findings})
]

reason(key, code, message) := {"code": code, "message": message, "statement": statement_index(key)} if {
	is_number(key)
} else := {"code": code, "message": message}

# The index the gateway gave the statement, or its position.
statement_index(i) := x if {
	x := request.statements[i].index
	is_number(x)
} else := i

# ---------------------------------------------------------------------------
# the command

action := "deny" if {
	count(deny_findings) > 0
} else := "review" if {
	count(open_reviews) > 0
} else := "allow"

reasons := ordered_reasons(action_findings)

statements := [{
	"index": statement_index(i),
	"action": a,
	"reasons": item_reasons(i, a),
} |
	some i, _ in request.statements
	a := item_action(i)
]

item_reasons(_, "allow") := []

item_reasons(i, "deny") := ordered_reasons({f | some f in deny_findings; f.key == i})

item_reasons(i, "review") := ordered_reasons({f | some f in open_reviews; f.key == i})

# Grants that turned a review into an allow; none unless the command is
# allowed, so a single-use grant is only spent when the command runs.
grants_used := sort({id | some f in review_findings; id := grants.cover(f)}) if {
	action == "allow"
	count(review_findings) > 0
} else := []

# ---------------------------------------------------------------------------
# review: the scope and duration a grant would need

review := {
	"scope": review_scope,
	"duration_seconds": settings.review_duration_seconds,
	"max_duration_seconds": settings.review_max_duration_seconds,
}

reviewed := [i | some i, _ in request.statements; item_action(i) == "review"]

# The tables each reviewed statement writes.
reviewed_tables[i] := sql.written_tables(request.statements[i]) if some i in reviewed

# Shell: the command line's fingerprint. SQL: verbs on the written tables,
# unless a reviewed statement is an unbounded write or writes no named
# table; then the exact statement shapes, so approvers approve exactly what
# they saw.
review_scope := fingerprint_scope([request.command_fingerprint]) if {
	request.is_shell
} else := statement_scope if {
	not needs_fingerprint
} else := fingerprint_scope([statement_fingerprint(i) | some i in reviewed])

needs_fingerprint if {
	some f in open_reviews
	f.code == "sql.unbounded_write"
}

needs_fingerprint if {
	some tables in reviewed_tables
	count(tables - {"?"}) == 0
}

needs_fingerprint if {
	some tables in reviewed_tables
	"?" in tables
}

statement_scope := {
	"kind": "statement",
	"verbs": sort({v | some i in reviewed; some v in sql.verbs(request.statements[i])}),
	"tables": sort({t | some tables in reviewed_tables; some t in tables}),
}

fingerprint_scope(fps) := {"kind": "fingerprint", "fingerprints": sort({fp | some fp in fps; fp != ""})}

statement_fingerprint(i) := request.statements[i].fingerprint if {
	is_string(request.statements[i].fingerprint)
} else := request.command_fingerprint
