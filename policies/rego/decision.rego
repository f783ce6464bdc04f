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

evaluated := object.union(result, {"review": review}) if {
	action == "review"
} else := result

result := {
	"action": action,
	"reasons": reasons,
	"statements": statements,
	"mask": {"rules": mask.rules},
	"grants_used": grants_used,
}

# ---------------------------------------------------------------------------
# findings and items

deny_findings := sql.deny | shell.deny

review_findings := sql.review | shell.review

keys := array.concat([i | some i, _ in request.statements], ["command"])

item_action(key) := "deny" if {
	some f in deny_findings
	f.key == key
} else := "review" if {
	some f in open_reviews
	f.key == key
} else := "allow"

# Review findings that no active grant covers.
open_reviews contains f if {
	some f in review_findings
	not grants.cover(f)
}

# Reasons ordered by code, then message, the same in every engine.
item_reasons(key) := ordered_reasons(deny_findings, key) if {
	item_action(key) == "deny"
} else := ordered_reasons(open_reviews, key)

ordered_reasons(findings, key) := [reason(key, pair[0], pair[1]) |
	some pair in sort({[f.code, f.message] | some f in findings; f.key == key})
]

reason(key, code, message) := {"code": code, "message": message, "statement": statement_index(key)} if {
	is_number(key)
} else := {"code": code, "message": message}

# The index the gateway gave the statement, or its position.
statement_index(i) := request.statements[i].index if {
	is_number(request.statements[i].index)
} else := i

# ---------------------------------------------------------------------------
# the command

action := "deny" if {
	some k in keys
	item_action(k) == "deny"
} else := "review" if {
	some k in keys
	item_action(k) == "review"
} else := "allow"

reasons := [r | some k in keys; item_action(k) == action; some r in item_reasons(k)]

statements := [{
	"index": statement_index(i),
	"action": item_action(i),
	"reasons": item_reasons(i),
} |
	some i, _ in request.statements
]

# Grants that turned a review into an allow; none unless the command is
# allowed, so a single-use grant is only spent when the command runs.
grants_used := sort({id | some f in review_findings; id := grants.cover(f)}) if {
	action == "allow"
} else := []

# ---------------------------------------------------------------------------
# review: the scope and duration a grant would need

review := {
	"scope": review_scope,
	"duration_seconds": settings.review_duration_seconds,
	"max_duration_seconds": settings.review_max_duration_seconds,
}

reviewed := [i | some i, _ in request.statements; item_action(i) == "review"]

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
	some i in reviewed
	count(sql.written_tables(request.statements[i]) - {"?"}) == 0
}

needs_fingerprint if {
	some i in reviewed
	"?" in sql.written_tables(request.statements[i])
}

statement_scope := {
	"kind": "statement",
	"verbs": sort({v | some i in reviewed; some v in sql.verbs(request.statements[i])}),
	"tables": sort({t | some i in reviewed; some t in sql.written_tables(request.statements[i])}),
}

fingerprint_scope(fps) := {"kind": "fingerprint", "fingerprints": sort({fp | some fp in fps; fp != ""})}

statement_fingerprint(i) := request.statements[i].fingerprint if {
	is_string(request.statements[i].fingerprint)
} else := request.command_fingerprint
