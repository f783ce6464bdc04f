# Aggregation over statements, the output shape, and the review object.
package warden_test.decision

import data.warden_test.lib

test_most_restrictive_statement_wins_deny if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.select_orders(0), lib.insert_orders(1), lib.drop_table(2)]))
	d.action == "deny"

	# Only the reasons for the deny: asking for a grant would not help.
	d.reasons == [{"code": "sql.drop", "message": "DROP statements are not allowed", "statement": 2}]
	[s.action | some s in d.statements] == ["allow", "review", "deny"]
	d.statements[1].reasons[0].code == "sql.write_in_production"
	not "review" in object.keys(d)
	d.grants_used == []
}

test_most_restrictive_statement_wins_review if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.select_orders(0), lib.insert_orders(1)]))
	d.action == "review"
	lib.codes(d) == {"sql.write_in_production"}
	d.reasons[0].statement == 1
	d.review.scope == {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders"]}
}

test_all_allowed_statements_allow if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.select_orders(0), lib.select_orders(1)]))
	d.action == "allow"
	d.reasons == []
	[s.action | some s in d.statements] == ["allow", "allow"]
}

test_deny_in_first_statement_denies_command if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.drop_table(0), lib.select_orders(1)]))
	d.action == "deny"
	[s.action | some s in d.statements] == ["deny", "allow"]
}

# The review scope covers every statement under review.
test_review_scope_unites_statements if {
	upd := object.union(lib.update_orders(1, true), {"dml": [{"verb": "update", "table": "public.customers", "has_where": true}], "tables": [lib.tbl("public", "customers", "write")]})
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0), upd]))
	d.action == "review"
	d.review.scope == {"kind": "statement", "verbs": ["insert", "update"], "tables": ["public.customers", "public.orders"]}
	count(d.reasons) == 2
}

# With an unbounded write among them, the exact shapes are asked for.
test_review_scope_with_unbounded_write_uses_fingerprints if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0), lib.delete_orders(1, false)]))
	d.action == "review"
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-delete-orders", "fp-insert-orders"]}
}

test_review_scope_falls_back_to_command_fingerprint if {
	s := object.remove(lib.delete_orders(0, false), ["fingerprint"])
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["cmd-fp"]}
}

test_reasons_use_the_gateway_statement_index if {
	s := object.union(lib.drop_table(0), {"index": 7})
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.reasons[0].statement == 7
	d.statements[0].index == 7
}

test_reasons_sorted_by_code if {
	s := lib.stmt(0, {"functions": ["pg_read_file", "dblink"], "text": "SELECT dblink('x', pg_read_file('/etc/passwd'))"})
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	[r.code | some r in d.reasons] == ["sql.dblink", "sql.server_file_function"]
}

test_empty_statement_list_allowed if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, []))
	d.action == "allow"
	d.statements == []
}

test_output_shape_of_allow if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.select_orders(0)]))
	object.keys(d) == {"action", "reasons", "statements", "mask", "grants_used"}
	d.statements == [{"index": 0, "action": "allow", "reasons": []}]
}

test_output_shape_of_review if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0)]))
	object.keys(d) == {"action", "reasons", "statements", "mask", "grants_used", "review"}
	object.keys(d.review) == {"scope", "duration_seconds", "max_duration_seconds"}
}
