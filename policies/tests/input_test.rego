# Fail closed: malformed input is denied with input.invalid, and the
# decision is always defined.
package warden_test.input

import data.warden_test.lib

valid := lib.sql_input(lib.agent, lib.staging_db, [lib.select_orders(0)])

invalid(inp) if {
	d := lib.decide(inp)
	d.action == "deny"
	lib.codes(d) == {"input.invalid"}
	d.statements == []
	d.grants_used == []
	d.mask.rules == lib.all_mask_ids
	not "review" in object.keys(d)
}

test_valid_input_is_not_invalid if {
	d := lib.decide(valid)
	d.action == "allow"
	not "input.invalid" in lib.codes(d)
}

test_empty_input_invalid if invalid({})

test_non_object_inputs_invalid if {
	every inp in ["DROP TABLE x", 42, [], null] {
		invalid(inp)
	}
}

test_no_input_at_all_is_denied if {
	d := data.warden.decision
	d.action == "deny"
	lib.codes(d) == {"input.invalid"}
}

test_missing_identity_invalid if invalid(object.remove(valid, ["identity"]))

test_unknown_identity_kind_invalid if {
	invalid(object.union(valid, {"identity": {"kind": "service"}}))
	invalid(object.union(valid, {"identity": {"kind": null}}))
	invalid(object.union(valid, {"identity": "svc-reporting"}))
}

test_missing_target_invalid if invalid(object.remove(valid, ["target"]))

test_labels_of_wrong_type_invalid if invalid(object.union(valid, {"target": {"labels": ["production"]}}))

test_missing_command_invalid if invalid(object.remove(valid, ["command"]))

test_command_without_protocol_part_invalid if {
	invalid(object.union(valid, {"command": {"raw": "x", "fingerprint": "f", "actions": [], "objects": [], "sql": null}}))
	invalid(json.patch(valid, [{"op": "remove", "path": "/command/sql"}]))
	invalid(json.patch(valid, [{"op": "replace", "path": "/command/sql", "value": "SELECT 1"}]))
}

test_command_with_both_protocol_parts_invalid if {
	invalid(object.union(valid, {"command": {"shell": {"interactive": true, "commands": []}}}))
}

test_sql_without_statements_invalid if {
	invalid(json.patch(valid, [{"op": "remove", "path": "/command/sql/statements"}]))
	invalid(json.patch(valid, [{"op": "replace", "path": "/command/sql/statements", "value": {"0": {}}}]))
}

test_malformed_statements_invalid if {
	invalid(json.patch(valid, [{"op": "add", "path": "/command/sql/statements/-", "value": "DROP TABLE x"}]))
	invalid(json.patch(valid, [{"op": "add", "path": "/command/sql/statements/-", "value": {"index": 1, "node": "DropStmt"}}]))
}

test_statement_fields_of_wrong_type_invalid if {
	every field, value in {"functions": "pg_read_file", "settings": "role", "dml": {}, "tables": "public.orders", "copy": true, "language": ["c"]} {
		invalid(json.patch(valid, [{"op": "add", "path": concat("", ["/command/sql/statements/0/", field]), "value": value}]))
	}
}

test_dml_entry_without_verb_invalid if {
	invalid(json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/dml", "value": [{"table": "public.orders", "has_where": false}]}]))
	invalid(json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/dml", "value": ["delete"]}]))
}

test_null_optional_statement_fields_valid if {
	lib.decide(json.patch(valid, [
		{"op": "add", "path": "/command/sql/statements/0/copy", "value": null},
		{"op": "add", "path": "/command/sql/statements/0/language", "value": null},
	])).action == "allow"
}

test_shell_without_commands_invalid if {
	inp := lib.line(["ls"])
	invalid(json.patch(inp, [{"op": "remove", "path": "/command/shell/commands"}]))
	invalid(json.patch(inp, [{"op": "add", "path": "/command/shell/commands/-", "value": {"args": ["-rf", "/"]}}]))
	invalid(json.patch(inp, [{"op": "add", "path": "/command/shell/commands/-", "value": {"program": "rm", "args": "-rf /"}}]))
}

test_invalid_message_names_the_problem if {
	d := lib.decide(object.remove(valid, ["target"]))
	d.reasons == [{"code": "input.invalid", "message": "the request is malformed: target is missing"}]
}

# Optional parts may be missing: session, grants, now, labels.
test_optional_parts_may_be_missing if {
	d := lib.decide(object.remove(valid, ["session", "grants", "now"]))
	d.action == "allow"
	e := lib.decide(object.union(valid, {"target": {"name": "x", "protocol": "postgres", "labels": {}}}))
	e.action == "allow"
}

# request.valid (the fast check) and request.problems (the message) are two
# codings of the same rules: they must agree on every input.
test_valid_agrees_with_problems if {
	inputs := [
		valid,
		{},
		"x",
		object.remove(valid, ["target"]),
		object.union(valid, {"identity": {"kind": "service"}}),
		object.union(valid, {"target": {"labels": ["production"]}}),
		object.union(valid, {"command": {"shell": {"interactive": true, "commands": []}}}),
		json.patch(valid, [{"op": "remove", "path": "/command/sql/statements"}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/parse_error", "value": "x"}, {"op": "remove", "path": "/command/sql/statements"}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/statements/-", "value": {"index": 1}}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/dml", "value": [{"table": "t"}]}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/tables", "value": null}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/copy", "value": "x"}]),
		json.patch(valid, [{"op": "add", "path": "/command/sql/statements/0/language", "value": null}]),
		lib.line(["ls"]),
		lib.interactive_input(lib.agent, lib.production_host),
		json.patch(lib.line(["ls"]), [{"op": "remove", "path": "/command/shell/commands"}]),
		json.patch(lib.line(["ls"]), [{"op": "add", "path": "/command/shell/parse_error", "value": "x"}, {"op": "remove", "path": "/command/shell/commands"}]),
		json.patch(lib.line(["ls"]), [{"op": "add", "path": "/command/shell/commands/-", "value": {"program": "rm", "args": "-rf /"}}]),
	]
	every inp in inputs {
		ok := {true | data.warden.request.valid with input as inp}
		problems := data.warden.request.problems with input as inp
		is_valid := count(ok) == 1
		no_problems := count(problems) == 0
		is_valid == no_problems
	}
}
