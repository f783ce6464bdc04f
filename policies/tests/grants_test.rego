# What grants cover: each scope kind, expiry, and that they never override a
# deny.
package warden_test.grants

import data.warden_test.lib

agent_insert := lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0)])

agent_unbounded_delete := lib.sql_input(lib.agent, lib.production_db, [lib.delete_orders(0, false)])

decide_with(inp, grants) := lib.decide(lib.with_grants(inp, grants))

# --- target -------------------------------------------------------------------

test_target_grant_covers_write if {
	d := decide_with(agent_insert, [lib.grant("req-1", {"kind": "target"})])
	d.action == "allow"
	d.reasons == []
	d.grants_used == ["req-1"]
	not "review" in object.keys(d)
}

test_target_grant_covers_unbounded_write if {
	d := decide_with(agent_unbounded_delete, [lib.grant("req-1", {"kind": "target"})])
	d.action == "allow"
	d.grants_used == ["req-1"]
}

test_target_grant_never_overrides_deny if {
	inp := lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0), lib.drop_table(1)])
	d := decide_with(inp, [lib.grant("req-1", {"kind": "target"})])
	d.action == "deny"
	lib.codes(d) == {"sql.drop"}
	d.grants_used == []
}

# --- fingerprint and once -----------------------------------------------------

test_fingerprint_grant_covers_statement_fingerprint if {
	d := decide_with(agent_insert, [lib.grant("req-2", {"kind": "fingerprint", "fingerprints": ["fp-insert-orders"]})])
	d.action == "allow"
	d.grants_used == ["req-2"]
}

test_fingerprint_grant_covers_command_fingerprint if {
	d := decide_with(agent_insert, [lib.grant("req-2", {"kind": "fingerprint", "fingerprints": ["cmd-fp"]})])
	d.action == "allow"
}

test_fingerprint_grant_for_other_statement_does_not_cover if {
	d := decide_with(agent_insert, [lib.grant("req-2", {"kind": "fingerprint", "fingerprints": ["fp-update-orders"]})])
	d.action == "review"
	d.grants_used == []
}

test_fingerprint_grant_covers_unbounded_write if {
	d := decide_with(agent_unbounded_delete, [lib.grant("req-2", {"kind": "fingerprint", "fingerprints": ["fp-delete-orders"]})])
	d.action == "allow"
	d.grants_used == ["req-2"]
}

test_fingerprint_grant_covers_human_unbounded_write if {
	inp := lib.sql_input(lib.human, lib.staging_db, [lib.update_orders(0, false)])
	d := decide_with(inp, [lib.grant("req-2", {"kind": "fingerprint", "fingerprints": ["fp-update-orders"]})])
	d.action == "allow"
}

test_once_grant_covers_and_is_reported if {
	d := decide_with(agent_unbounded_delete, [lib.grant("req-3", {"kind": "once", "fingerprints": ["fp-delete-orders"]})])
	d.action == "allow"
	d.grants_used == ["req-3"]
}

test_once_grant_not_spent_when_a_standing_grant_covers if {
	d := decide_with(agent_insert, [
		lib.grant("req-3", {"kind": "once", "fingerprints": ["fp-insert-orders"]}),
		lib.grant("req-9", {"kind": "target"}),
	])
	d.action == "allow"
	d.grants_used == ["req-9"]
}

test_once_grant_not_spent_when_command_is_not_allowed if {
	inp := lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0), lib.update_orders(1, true)])
	d := decide_with(inp, [lib.grant("req-3", {"kind": "once", "fingerprints": ["fp-insert-orders"]})])
	d.action == "review"
	[s.action | some s in d.statements] == ["allow", "review"]
	d.grants_used == []

	# The review asks only for what is not yet covered.
	d.review.scope == {"kind": "statement", "verbs": ["update"], "tables": ["public.orders"]}
}

# --- statement ----------------------------------------------------------------

test_statement_grant_covers_verb_on_table if {
	d := decide_with(agent_insert, [lib.grant("req-4", {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders"]})])
	d.action == "allow"
	d.grants_used == ["req-4"]
}

test_statement_grant_for_other_table_does_not_cover if {
	d := decide_with(agent_insert, [lib.grant("req-4", {"kind": "statement", "verbs": ["insert"], "tables": ["public.customers"]})])
	d.action == "review"
	d.grants_used == []
}

test_statement_grant_for_unqualified_name_does_not_cover if {
	d := decide_with(agent_insert, [lib.grant("req-4", {"kind": "statement", "verbs": ["insert"], "tables": ["orders"]})])
	d.action == "review"
}

test_statement_grant_for_other_verb_does_not_cover if {
	d := decide_with(agent_insert, [lib.grant("req-4", {"kind": "statement", "verbs": ["update"], "tables": ["public.orders"]})])
	d.action == "review"
}

test_statement_grant_must_list_every_written_table if {
	s := object.union(lib.insert_orders(0), {"tables": [
		lib.tbl("public", "orders", "write"),
		lib.tbl("public", "order_audit", "write"),
		lib.tbl("public", "customers", "read"),
	]})
	inp := lib.sql_input(lib.agent, lib.production_db, [s])
	partial := decide_with(inp, [lib.grant("req-4", {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders"]})])
	partial.action == "review"
	full := decide_with(inp, [lib.grant("req-4", {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders", "public.order_audit"]})])
	full.action == "allow"
}

# A write hidden in a SELECT needs its own verb granted too.
test_statement_grant_must_list_hidden_write_verbs if {
	cte := lib.stmt(0, {
		"node": "SelectStmt", "verb": "select", "category": "read", "writes": true,
		"dml": [{"verb": "delete", "table": "public.orders", "has_where": true}],
		"tables": [lib.tbl("public", "orders", "write")],
		"text": "WITH d AS (DELETE FROM public.orders WHERE id = 1 RETURNING *) SELECT * FROM d",
	})
	inp := lib.sql_input(lib.agent, lib.production_db, [cte])
	decide_with(inp, [lib.grant("req-4", {"kind": "statement", "verbs": ["select"], "tables": ["public.orders"]})]).action == "review"
	decide_with(inp, [lib.grant("req-4", {"kind": "statement", "verbs": ["select", "delete"], "tables": ["public.orders"]})]).action == "allow"
}

# An unbounded write needs its exact shape approved (or a target grant).
test_statement_grant_does_not_cover_unbounded_write if {
	d := decide_with(agent_unbounded_delete, [lib.grant("req-4", {"kind": "statement", "verbs": ["delete"], "tables": ["public.orders"]})])
	d.action == "review"
	d.reasons == [{"code": "sql.unbounded_write", "message": "DELETE without a WHERE clause on public.orders needs approval", "statement": 0}]
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-delete-orders"]}
	d.grants_used == []
}

test_statement_grant_never_overrides_deny if {
	truncate := lib.stmt(0, {
		"node": "TruncateStmt", "verb": "truncate", "object_type": "table", "category": "write", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "text": "TRUNCATE public.orders",
	})
	inp := lib.sql_input(lib.agent, lib.production_db, [truncate])
	d := decide_with(inp, [lib.grant("req-4", {"kind": "statement", "verbs": ["truncate"], "tables": ["public.orders"]})])
	d.action == "deny"
	d.grants_used == []
}

# --- expiry and malformed grants ----------------------------------------------

test_expired_grant_covers_nothing if {
	d := decide_with(agent_insert, [{"id": "req-5", "expires_ns": lib.now_ns - 1, "scope": {"kind": "target"}}])
	d.action == "review"
	d.grants_used == []
}

test_grant_expiring_now_covers_nothing if {
	d := decide_with(agent_insert, [{"id": "req-5", "expires_ns": lib.now_ns, "scope": {"kind": "target"}}])
	d.action == "review"
}

test_grant_expiring_after_now_covers if {
	d := decide_with(agent_insert, [{"id": "req-5", "expires_ns": lib.now_ns + 1, "scope": {"kind": "target"}}])
	d.action == "allow"
}

test_no_grant_is_active_without_a_clock if {
	inp := object.remove(lib.with_grants(agent_insert, [lib.grant("req-1", {"kind": "target"})]), ["now"])
	lib.decide(inp).action == "review"
}

test_malformed_grants_cover_nothing if {
	d := decide_with(agent_insert, [
		{"id": "no-expiry", "scope": {"kind": "target"}},
		{"expires_ns": lib.now_ns + lib.hour_ns, "scope": {"kind": "target"}},
		{"id": "no-scope", "expires_ns": lib.now_ns + lib.hour_ns},
		{"id": "unknown-kind", "expires_ns": lib.now_ns + lib.hour_ns, "scope": {"kind": "everything"}},
		{"id": "empty-fingerprint", "expires_ns": lib.now_ns + lib.hour_ns, "scope": {"kind": "fingerprint", "fingerprints": [""]}},
		"req-1",
	])
	d.action == "review"
}

test_grants_not_an_array_are_ignored if {
	lib.decide(object.union(agent_insert, {"grants": {"id": "req-1"}})).action == "review"
}

# --- shell --------------------------------------------------------------------

agent_shell := lib.shell_input(lib.agent, lib.production_host, "systemctl status nginx", [lib.cmd("systemctl", ["status", "nginx"])])

test_target_grant_covers_shell if {
	d := decide_with(agent_shell, [lib.grant("req-6", {"kind": "target"})])
	d.action == "allow"
	d.grants_used == ["req-6"]
}

test_fingerprint_grant_covers_shell_command if {
	d := decide_with(agent_shell, [lib.grant("req-7", {"kind": "fingerprint", "fingerprints": ["fp:systemctl status nginx"]})])
	d.action == "allow"
	d.grants_used == ["req-7"]
}

test_once_grant_covers_shell_command if {
	d := decide_with(agent_shell, [lib.grant("req-8", {"kind": "once", "fingerprints": ["fp:systemctl status nginx"]})])
	d.action == "allow"
	d.grants_used == ["req-8"]
}

test_fingerprint_grant_for_other_command_does_not_cover_shell if {
	d := decide_with(agent_shell, [lib.grant("req-7", {"kind": "fingerprint", "fingerprints": ["fp:systemctl restart nginx"]})])
	d.action == "review"
}

test_statement_grant_does_not_cover_shell if {
	d := decide_with(agent_shell, [lib.grant("req-4", {"kind": "statement", "verbs": ["exec"], "tables": []})])
	d.action == "review"
}

test_grant_never_overrides_shell_deny if {
	inp := lib.shell_input(lib.agent, lib.production_host, "sudo -i", [lib.cmd("sudo", ["-i"])])
	d := decide_with(inp, [lib.grant("req-6", {"kind": "target"}), lib.grant("req-7", {"kind": "once", "fingerprints": ["fp:sudo -i"]})])
	d.action == "deny"
	lib.codes(d) == {"shell.privilege_escalation"}
	d.grants_used == []
}
