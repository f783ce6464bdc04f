# Grants: which of input.grants are active, and which review findings they
# cover. Grants only ever turn a review into an allow; they never override a
# deny (decision.rego never asks about deny findings).
package warden.grants

import data.warden.request
import data.warden.sql

# A grant is active when it is well-formed and expires after now. Without a
# clock (input.now.ns) no grant is active.
active contains g if {
	some g in request.grants
	is_string(g.id)
	is_number(g.expires_ns)
	g.expires_ns > request.now_ns
	is_string(g.scope.kind)
}

# The id of the grant used to cover a review finding; undefined when no
# active grant covers it. Grants other than `once` are preferred, so a
# single-use grant is not spent when a standing grant already covers the
# finding; among equals the smallest id is taken, to be deterministic.
cover(f) := min(standing) if {
	standing := {g.id | some g in active; g.scope.kind != "once"; covers(g, f)}
	count(standing) > 0
} else := min(single) if {
	single := {g.id | some g in active; g.scope.kind == "once"; covers(g, f)}
	count(single) > 0
}

# SQL findings are about one statement.
covers(g, f) if {
	is_number(f.key)
	covers_statement(g, request.statements[f.key], f.code)
}

# Shell findings are about the whole command line.
covers(g, f) if {
	request.is_shell
	f.key == "command"
	covers_command(g)
}

# target: every command that is not denied.
covers_statement(g, _, _) if g.scope.kind == "target"

# fingerprint / once: the statement's fingerprint, or the whole command's.
covers_statement(g, s, _) if {
	g.scope.kind in {"fingerprint", "once"}
	is_string(s.fingerprint)
	s.fingerprint != ""
	s.fingerprint in fingerprints(g)
}

covers_statement(g, _, _) if covers_command_fingerprint(g)

# statement: the statement's verb and the verb of every data change in it are
# listed, and every table it writes is listed. A statement scope does not
# cover an unbounded UPDATE/DELETE: that needs the exact statement shape
# (fingerprint or once) or a target grant.
covers_statement(g, s, code) if {
	g.scope.kind == "statement"
	code != "sql.unbounded_write"
	allowed_verbs := strings_of(g.scope.verbs)
	every v in sql.verbs(s) {
		v in allowed_verbs
	}
	allowed_tables := strings_of(g.scope.tables) - {"?"}
	every t in sql.written_tables(s) {
		t in allowed_tables
	}
}

covers_command(g) if g.scope.kind == "target"

covers_command(g) if covers_command_fingerprint(g)

covers_command_fingerprint(g) if {
	g.scope.kind in {"fingerprint", "once"}
	request.command_fingerprint != ""
	request.command_fingerprint in fingerprints(g)
}

fingerprints(g) := strings_of(g.scope.fingerprints)

strings_of(xs) := {x | some x in xs; is_string(x)} if {
	is_array(xs)
} else := set()
