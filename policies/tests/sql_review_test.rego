# SQL statements that need review: unbounded writes (everyone, everywhere)
# and writes by agents on production targets.
package warden_test.sql_review

import data.warden_test.lib

review_codes(identity, target, statements) := lib.codes(d) if {
	d := lib.decide(lib.sql_input(identity, target, statements))
	d.action == "review"
}

# --- UPDATE / DELETE without WHERE --------------------------------------------

test_delete_without_where_reviewed if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.delete_orders(0, false)]))
	d.action == "review"
	d.reasons == [{
		"code": "sql.unbounded_write",
		"message": "DELETE without a WHERE clause on public.orders needs approval",
		"statement": 0,
	}]
	d.review == {
		"scope": {"kind": "fingerprint", "fingerprints": ["fp-delete-orders"]},
		"duration_seconds": 3600,
		"max_duration_seconds": 28800,
	}
	d.grants_used == []
}

test_update_without_where_reviewed if {
	review_codes(lib.human, lib.staging_db, [lib.update_orders(0, false)]) == {"sql.unbounded_write"}
}

test_update_and_delete_with_where_allowed if {
	every s in [lib.update_orders(0, true), lib.delete_orders(0, true)] {
		d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
		d.action == "allow"
		not "review" in object.keys(d)
	}
}

# WITH gone AS (DELETE FROM public.orders RETURNING *) SELECT count(*) FROM gone
cte_delete(i, has_where) := lib.stmt(i, {
	"node": "SelectStmt", "verb": "select", "category": "read", "writes": true,
	"dml": [{"verb": "delete", "table": "public.orders", "has_where": has_where}],
	"tables": [lib.tbl("public", "orders", "write")],
	"fingerprint": "fp-cte-delete",
	"text": "WITH gone AS (DELETE FROM public.orders RETURNING *) SELECT count(*) FROM gone",
})

test_unbounded_delete_in_cte_reviewed if {
	review_codes(lib.human, lib.staging_db, [cte_delete(0, false)]) == {"sql.unbounded_write"}
}

test_bounded_delete_in_cte_allowed_for_humans if {
	lib.decide(lib.sql_input(lib.human, lib.staging_db, [cte_delete(0, true)])).action == "allow"
}

# Every entry of dml is checked, not just the first.
test_second_dml_entry_checked if {
	s := lib.stmt(0, {
		"node": "UpdateStmt", "verb": "update", "category": "write", "writes": true,
		"dml": [
			{"verb": "update", "table": "public.orders", "has_where": true},
			{"verb": "delete", "table": "public.audit", "has_where": false},
		],
		"tables": [lib.tbl("public", "orders", "write"), lib.tbl("public", "audit", "write")],
		"text": "WITH d AS (DELETE FROM public.audit) UPDATE public.orders SET x = 1 WHERE id = 1",
	})
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "review"
	d.reasons[0].message == "DELETE without a WHERE clause on public.audit needs approval"
}

# Fail closed: has_where missing, or an UPDATE reported without dml.
test_missing_has_where_is_unbounded if {
	s := object.union(lib.delete_orders(0, true), {"dml": [{"verb": "delete", "table": "public.orders"}]})
	review_codes(lib.human, lib.staging_db, [s]) == {"sql.unbounded_write"}
}

test_update_without_dml_is_unbounded if {
	s := object.union(lib.update_orders(0, true), {"dml": []})
	review_codes(lib.human, lib.staging_db, [s]) == {"sql.unbounded_write"}
}

# INSERT has no WHERE clause and needs none.
test_insert_is_not_unbounded if {
	lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.insert_orders(0)])).action == "allow"
}

# --- agents writing to production ---------------------------------------------

test_agent_insert_on_production_reviewed if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.insert_orders(0)]))
	d.action == "review"
	d.reasons == [{
		"code": "sql.write_in_production",
		"message": "agents need an approved grant to write to production targets",
		"statement": 0,
	}]
	d.statements == [{"index": 0, "action": "review", "reasons": d.reasons}]
	d.review.scope == {"kind": "statement", "verbs": ["insert"], "tables": ["public.orders"]}
	d.review.duration_seconds == 3600
	d.review.max_duration_seconds == 28800
}

test_agent_unbounded_delete_on_production_has_both_reasons if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.delete_orders(0, false)]))
	d.action == "review"
	lib.codes(d) == {"sql.unbounded_write", "sql.write_in_production"}
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-delete-orders"]}
}

test_agent_read_on_production_allowed if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.select_orders(0)]))
	d.action == "allow"
	d.reasons == []
	not "review" in object.keys(d)
}

test_human_write_on_production_allowed if {
	lib.decide(lib.sql_input(lib.human, lib.production_db, [lib.insert_orders(0)])).action == "allow"
}

test_agent_write_on_staging_allowed if {
	lib.decide(lib.sql_input(lib.agent, lib.staging_db, [lib.insert_orders(0)])).action == "allow"
}

test_agent_write_on_unlabelled_target_allowed if {
	target := {"name": "scratch", "protocol": "postgres"}
	lib.decide(lib.sql_input(lib.agent, target, [lib.insert_orders(0)])).action == "allow"
}

test_production_label_matched_case_insensitively if {
	every env in ["Production", "PRODUCTION", "prod"] {
		target := {"name": "orders-db", "protocol": "postgres", "labels": {"environment": env}}
		review_codes(lib.agent, target, [lib.insert_orders(0)]) == {"sql.write_in_production"}
	}
}

# Writes hidden inside reads count as writes.
test_agent_select_with_hidden_write_on_production_reviewed if {
	review_codes(lib.agent, lib.production_db, [cte_delete(0, true)]) == {"sql.write_in_production"}
}

test_agent_explain_analyze_of_write_reviewed if {
	s := lib.stmt(0, {
		"node": "ExplainStmt", "verb": "explain", "category": "utility", "writes": true,
		"dml": [{"verb": "update", "table": "public.orders", "has_where": true}],
		"tables": [lib.tbl("public", "orders", "write")],
		"text": "EXPLAIN ANALYZE UPDATE public.orders SET status = 'x' WHERE id = 1",
	})
	review_codes(lib.agent, lib.production_db, [s]) == {"sql.write_in_production"}
}

test_agent_explain_without_analyze_allowed if {
	s := lib.stmt(0, {
		"node": "ExplainStmt", "verb": "explain", "category": "utility", "writes": false,
		"tables": [lib.tbl("public", "orders", "read")],
		"text": "EXPLAIN SELECT * FROM public.orders",
	})
	lib.decide(lib.sql_input(lib.agent, lib.production_db, [s])).action == "allow"
}

test_agent_prepare_and_execute_of_write_reviewed if {
	prepare := lib.stmt(0, {
		"node": "PrepareStmt", "verb": "prepare", "category": "utility", "writes": true,
		"dml": [{"verb": "insert", "table": "public.orders", "has_where": false}],
		"tables": [lib.tbl("public", "orders", "write")],
		"text": "PREPARE ins(int) AS INSERT INTO public.orders (id) VALUES ($1)",
	})
	execute := lib.stmt(0, {
		"node": "ExecuteStmt", "verb": "execute", "category": "utility", "writes": true,
		"dml": [{"verb": "insert", "table": "public.orders", "has_where": false}],
		"tables": [lib.tbl("public", "orders", "write")], "prepared_unknown": false,
		"text": "EXECUTE ins(1)",
	})
	review_codes(lib.agent, lib.production_db, [prepare]) == {"sql.write_in_production"}
	review_codes(lib.agent, lib.production_db, [execute]) == {"sql.write_in_production"}
}

test_agent_ddl_on_production_reviewed if {
	index := lib.stmt(0, {
		"node": "IndexStmt", "verb": "create", "object_type": "index", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "fingerprint": "fp-index",
		"text": "CREATE INDEX CONCURRENTLY ON public.orders (email)",
	})
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [index]))
	d.action == "review"
	d.review.scope == {"kind": "statement", "verbs": ["create"], "tables": ["public.orders"]}
}

# A write that names no table is approved by its exact shape.
test_agent_ddl_without_tables_gets_fingerprint_scope if {
	schema := lib.stmt(0, {
		"node": "CreateSchemaStmt", "verb": "create", "object_type": "schema", "category": "ddl", "writes": true,
		"fingerprint": "fp-schema", "text": "CREATE SCHEMA reporting",
	})
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [schema]))
	d.action == "review"
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-schema"]}
}

# Fail closed: a statement without a writes flag is a write.
test_missing_writes_flag_is_a_write if {
	s := object.remove(lib.select_orders(0), ["writes"])
	review_codes(lib.agent, lib.production_db, [s]) == {"sql.write_in_production"}
}

test_agent_call_on_production_reviewed if {
	s := lib.stmt(0, {"node": "CallStmt", "verb": "call", "category": "utility", "functions": ["public.close_month"], "text": "CALL public.close_month()"})
	review_codes(lib.agent, lib.production_db, [s]) == {"sql.write_in_production"}
}

test_agent_session_statements_on_production_allowed if {
	statements := [
		lib.stmt(0, {"node": "TransactionStmt", "verb": "begin", "category": "tcl", "text": "BEGIN"}),
		lib.stmt(1, {"node": "VariableSetStmt", "verb": "set", "category": "session", "settings": ["search_path"], "text": "SET search_path = public"}),
		lib.stmt(2, {"node": "VariableShowStmt", "verb": "show", "category": "session", "text": "SHOW search_path"}),
		lib.stmt(3, {"node": "TransactionStmt", "verb": "commit", "category": "tcl", "text": "COMMIT"}),
	]
	lib.decide(lib.sql_input(lib.agent, lib.production_db, statements)).action == "allow"
}

# --- MERGE ----------------------------------------------------------------------

merge_orders(i, has_where) := lib.stmt(i, {
	"node": "MergeStmt", "verb": "merge", "category": "write", "writes": true,
	"dml": [{"verb": "merge", "table": "public.orders", "has_where": has_where}],
	"tables": [lib.tbl("public", "orders", "write"), lib.tbl("public", "staged", "read")],
	"fingerprint": "fp-merge-orders",
	"text": "MERGE INTO public.orders o USING public.staged s ON true WHEN MATCHED THEN DELETE",
})

test_unbounded_merge_reviewed if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [merge_orders(0, false)]))
	d.action == "review"
	d.reasons == [{
		"code": "sql.unbounded_write",
		"message": "MERGE without a join condition on public.orders needs approval",
		"statement": 0,
	}]
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp-merge-orders"]}
}

test_bounded_merge_allowed if {
	lib.decide(lib.sql_input(lib.human, lib.staging_db, [merge_orders(0, true)])).action == "allow"
}

test_merge_without_dml_is_unbounded if {
	s := object.union(merge_orders(0, true), {"dml": []})
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "review"
	d.reasons[0].message == "MERGE without a join condition needs approval"
}
