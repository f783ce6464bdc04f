# Statements are recognised by node type and by verb/object_type alike, so
# one field reported differently does not open a hole; and partial fields
# fall back to the safe reading.
package warden_test.robustness

import data.warden_test.lib

code_for(s) := lib.codes(d) if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "deny"
}

# Recognised by the node type alone (verb "other", no object_type).
test_recognised_by_node if {
	every node, code in {
		"TruncateStmt": "sql.truncate",
		"AlterSystemStmt": "sql.alter_system",
		"CopyStmt": "sql.copy_program",
		"CreateExtensionStmt": "sql.create_extension",
		"CreateForeignServerStmt": "sql.foreign_server",
		"CreateRoleStmt": "sql.role_management",
		"GrantStmt": "sql.privileges",
	} {
		code in code_for(lib.stmt(0, {"node": node, "verb": "other", "text": ""}))
	}
	"sql.role_change" in code_for(lib.stmt(0, {"node": "DiscardStmt", "verb": "other", "text": "discard all"}))
}

test_do_recognised_by_node if {
	d := lib.decide(lib.sql_input(lib.agent, lib.staging_db, [lib.stmt(0, {"node": "DoStmt", "verb": "other", "text": "DO $$ $$"})]))
	lib.codes(d) == {"sql.anonymous_block"}
}

# Recognised by verb and object_type alone (node unknown or missing).
test_recognised_by_verb_and_object_type if {
	every fields, code in {
		{"verb": "truncate", "node": "Unknown"}: "sql.truncate",
		{"verb": "alter", "object_type": "system", "node": "Unknown"}: "sql.alter_system",
		{"verb": "discard", "node": "Unknown", "text": "DISCARD ALL"}: "sql.role_change",
		{"verb": "copy", "node": "Unknown", "copy": {"direction": "from", "program": false, "file": true}}: "sql.copy_file",
		{"verb": "create", "object_type": "extension", "node": "Unknown"}: "sql.create_extension",
		{"verb": "create", "object_type": "function", "node": "Unknown", "language": "c"}: "sql.untrusted_language",
		{"verb": "create", "object_type": "language", "node": "Unknown", "language": "plperlu"}: "sql.untrusted_language",
		{"verb": "alter", "object_type": "user_mapping"}: "sql.foreign_server",
	} {
		s := object.remove(object.union(lib.stmt(0, fields), {"text": object.get(fields, "text", "")}), {"node"} - {k | some k, _ in fields})
		code in code_for(s)
	}
}

test_discard_without_text_is_treated_as_discard_all if {
	s := object.remove(lib.stmt(0, {"node": "DiscardStmt", "verb": "discard", "category": "session"}), ["text"])
	code_for(s) == {"sql.role_change"}
}

test_do_recognised_by_verb if {
	d := lib.decide(lib.sql_input(lib.agent, lib.staging_db, [object.remove(lib.stmt(0, {"verb": "do", "text": "DO $$ $$"}), ["node"])]))
	lib.codes(d) == {"sql.anonymous_block"}
}

# A write is a write even when the writes flag says otherwise.
test_write_detected_from_tables_or_category if {
	table_write := object.union(lib.insert_orders(0), {"writes": false, "dml": []})
	ddl := lib.stmt(0, {"node": "CreateStmt", "verb": "create", "object_type": "table", "category": "ddl", "writes": false, "text": "CREATE TABLE t ()"})
	every s in [table_write, ddl] {
		d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [s]))
		lib.codes(d) == {"sql.write_in_production"}
	}
}

# Table names without "qualified" are built from schema and name.
test_table_names_without_qualified if {
	s := object.union(lib.insert_orders(0), {
		"dml": [],
		"tables": [
			{"schema": "public", "name": "orders", "access": "write"},
			{"schema": null, "name": "notes", "access": "write"},
			{"access": "write"},
			"public.ignored",
		],
	})
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [s]))
	d.action == "review"

	# A table without a name cannot be put in a statement scope.
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-insert-orders"]}
	g := {"id": "req-1", "expires_ns": lib.now_ns + 1, "scope": {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders", "notes", "?"]}}
	lib.decide(lib.with_grants(lib.sql_input(lib.agent, lib.production_db, [s]), [g])).action == "review"
}

test_dml_without_table if {
	s := object.union(lib.update_orders(0, true), {"dml": [{"verb": "update", "has_where": true}, {"verb": "delete", "has_where": false}], "tables": []})
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "review"
	[r.message | some r in d.reasons] == ["DELETE without a WHERE clause needs approval"]
}

test_statement_without_node_or_index if {
	s := object.remove(lib.drop_table(0), ["node", "index", "object_type"])
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.select_orders(0), s]))
	d.statements[1] == {"index": 1, "action": "deny", "reasons": [{"code": "sql.drop", "message": "DROP statements are not allowed", "statement": 1}]}
}

test_shell_command_without_args if {
	inp := lib.shell_input(lib.human, lib.staging_host, "sudo", [{"program": "sudo"}])
	lib.codes(lib.decide(inp)) == {"shell.privilege_escalation"}
}

test_shell_review_without_fingerprint if {
	inp := object.remove(lib.shell_input(lib.agent, lib.production_host, "uptime", [lib.cmd("uptime", [])]), ["command"])
	d := lib.decide(object.union(inp, {"command": {"raw": "uptime", "shell": {"interactive": false, "commands": [lib.cmd("uptime", [])]}}}))
	d.action == "review"
	d.review.scope == {"kind": "fingerprint", "fingerprints": []}

	# A grant cannot match a missing fingerprint.
	g := {"id": "req-1", "expires_ns": lib.now_ns + 1, "scope": {"kind": "fingerprint", "fingerprints": [""]}}
	e := lib.decide(object.union(inp, {"grants": [g], "command": {"raw": "uptime", "shell": {"interactive": false, "commands": [lib.cmd("uptime", [])]}}}))
	e.action == "review"
}

test_grant_with_malformed_lists_covers_nothing if {
	inp := lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0)])
	every scope in [
		{"kind": "fingerprint", "fingerprints": "fp-insert-orders"},
		{"kind": "statement", "verbs": "insert", "tables": ["public.orders"]},
		{"kind": "statement", "verbs": ["insert"], "tables": "public.orders"},
	] {
		lib.decide(lib.with_grants(inp, [lib.grant("req-1", scope)])).action == "review"
	}
}

test_unusual_shell_expansions if {
	every words in [["rm", "-rf", "${UNTERMINATED/etc"], ["rm", "-rf", "$(unterminated/etc"]] {
		lib.decide(lib.line(words)).action == "allow"
	}
	lib.decide(lib.line(["rm", "-rf", "$/etc"])).action == "deny"
	lib.decide(lib.line(["rm", "-rf", "$1/etc"])).action == "deny"
}
